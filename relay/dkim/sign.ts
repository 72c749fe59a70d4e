// DKIM signing of outgoing mail (relaxed/relaxed), every key of the sender domain at once. A body
// still in memory is hashed with native searches (relaxed-body.ts) and signed from its header
// section (prepared-signer.ts); one read from the spool is streamed through mailauth (and only
// opened when the domain has keys), so no message is read into memory whole to be signed. The
// caller then sends signatures + body.
import { Readable } from 'node:stream';
import type * as Mailauth from 'mailauth';
import type { DkimKeyring } from './keys.ts';
import { reuseKeyObjects } from './key-objects.ts';
import { signPrepared } from './prepared-signer.ts';
import { type SplitMessage, splitAndHashRelaxed } from './relaxed-body.ts';

// mailauth (SPF, DMARC, ARC, BIMI and their tables besides DKIM) costs some 40 MiB of memory once
// loaded: a relay loads it on its first signature, and one that signs nothing never does.
let mailauth: Promise<typeof Mailauth> | undefined;

function loadMailauth(): Promise<typeof Mailauth> {
  // Before mailauth's signer loads: it then reuses one key object per key (key-objects.ts).
  reuseKeyObjects();
  return import('mailauth');
}

export interface DkimResult {
  /** DKIM-Signature header lines (CRLF-terminated) to prepend; '' when the domain has no keys. */
  readonly signatures: string;
  readonly signed: readonly { readonly algorithm: string }[];
  readonly errors: readonly string[];
}

/**
 * `message` is the whole message in memory, its header section and body hash already split
 * (splitAndHashRelaxed), or opens a stream of it from the spool. All give the same signatures
 * (test/unit/relay-dkim/prepared-signer.test.ts).
 */
export async function signMessage(
  keyring: DkimKeyring,
  senderDomain: string | undefined,
  message: Buffer | SplitMessage | (() => Readable),
  signTime: Date,
): Promise<DkimResult> {
  const keys = senderDomain === undefined ? undefined : keyring.get(senderDomain.toLowerCase());
  const first = keys?.[0];
  if (senderDomain === undefined || keys === undefined || first === undefined) {
    return { signatures: '', signed: [], errors: [] };
  }
  const signatureData = keys.map((key) => ({
    signingDomain: senderDomain,
    selector: key.selector,
    privateKey: key.privateKeyPem,
    algorithm: key.algorithm,
    canonicalization: 'relaxed/relaxed',
  }));
  // mailauth signs with signatureData only; its type also wants the first key at the top level.
  const request = {
    signingDomain: senderDomain,
    selector: first.selector,
    privateKey: first.privateKeyPem,
    signatureData,
    signTime,
    strict: true,
  };
  const { dkimSign } = await (mailauth ??= loadMailauth());
  // Every algorithm the relay signs with hashes the body with SHA-256: one body hash serves all keys.
  const prepared = Buffer.isBuffer(message) ? splitAndHashRelaxed(message) : undefined;
  const result =
    typeof message === 'function'
      ? await dkimSign(message(), request)
      : Buffer.isBuffer(message)
        ? await (prepared ? signPrepared(prepared, request) : dkimSign(Readable.from([message]), request))
        : await signPrepared(message, request);
  const failed = new Set(result.errors.map((error) => error.selector ?? ''));
  return {
    signatures: result.signatures.replace(/\r?\n/g, '\r\n'),
    signed: keys.filter((key) => !failed.has(key.selector)).map((key) => ({ algorithm: key.algorithm })),
    errors: result.errors.map((error) => `${error.selector ?? '?'}: ${error.err.message}`),
  };
}
