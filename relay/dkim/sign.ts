// DKIM signing of outgoing mail (relaxed/relaxed), every key of the sender domain at once. The body
// is read from the spool as a stream to compute the signatures (and only opened when the domain
// has keys); the caller then sends signatures + body, so no message is ever held in memory whole.
import type { Readable } from 'node:stream';
import type * as Mailauth from 'mailauth';
import type { DkimKeyring } from './keys.ts';
import { reuseKeyObjects } from './key-objects.ts';

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

export async function signMessage(
  keyring: DkimKeyring,
  senderDomain: string | undefined,
  openBody: () => Readable,
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
  const { dkimSign } = await (mailauth ??= loadMailauth());
  const result = await dkimSign(openBody(), {
    signingDomain: senderDomain,
    selector: first.selector,
    privateKey: first.privateKeyPem,
    signatureData,
    signTime,
    strict: true,
  });
  const failed = new Set(result.errors.map((error) => error.selector ?? ''));
  return {
    signatures: result.signatures.replace(/\r?\n/g, '\r\n'),
    signed: keys.filter((key) => !failed.has(key.selector)).map((key) => ({ algorithm: key.algorithm })),
    errors: result.errors.map((error) => `${error.selector ?? '?'}: ${error.err.message}`),
  };
}
