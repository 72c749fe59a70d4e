// mailauth's DKIM signer fed with a header section and a body hash computed beforehand
// (relaxed-body.ts), as mailauth's own ARC sealer does when it no longer has the message: mailauth
// still selects and canonicalizes the header fields, writes the DKIM-Signature and signs it; only
// its byte-by-byte body pass is skipped. This leans on two internals of mailauth (pinned in
// package.json): the DkimSigner class of lib/dkim/dkim-signer.js with its `headers`/`bodyHash`
// options and finalize(), and parseHeaders of lib/tools.js. test/unit/relay-dkim/prepared-signer.test.ts
// fails, saying so, when an upgrade moves them, and checks that both paths sign every message alike.
import { createRequire } from 'node:module';
import type { SplitMessage } from './relaxed-body.ts';

export interface SignatureRequest {
  readonly signingDomain: string;
  readonly selector: string;
  readonly privateKey: string;
  readonly signatureData: readonly {
    readonly signingDomain: string;
    readonly selector: string;
    readonly privateKey: string;
    readonly algorithm: string;
    readonly canonicalization: string;
  }[];
  readonly signTime: Date;
  readonly strict: boolean;
}

export interface SignatureOutcome {
  /** DKIM-Signature header lines, each CRLF-terminated; '' when none was made. */
  readonly signatures: string;
  readonly errors: readonly { readonly selector?: string; readonly err: Error }[];
}

interface ParsedHeaders {
  readonly parsed: unknown[];
  readonly original: Buffer;
}

interface MailauthDkimSigner {
  finalize(): Promise<void>;
  readonly signatureHeaders: string[];
  readonly errors: { selector?: string; err: Error }[];
}

interface MailauthInternals {
  readonly DkimSigner: new (options: object) => MailauthDkimSigner;
  readonly parseHeaders: (header: Buffer) => ParsedHeaders;
}

let internals: MailauthInternals | undefined;

/** Loaded on first use: the caller (sign.ts) has installed the key-object memo before this. */
function mailauthInternals(): MailauthInternals {
  if (internals !== undefined) return internals;
  const require = createRequire(import.meta.url);
  const { DkimSigner } = require('mailauth/lib/dkim/dkim-signer.js') as Partial<MailauthInternals>;
  const { parseHeaders } = require('mailauth/lib/tools.js') as Partial<MailauthInternals>;
  if (typeof DkimSigner !== 'function' || typeof parseHeaders !== 'function') {
    throw new Error(
      "mailauth no longer exports DkimSigner from lib/dkim/dkim-signer.js or parseHeaders from lib/tools.js (an upgrade?): relay/dkim/prepared-signer.ts can't sign",
    );
  }
  internals = { DkimSigner, parseHeaders };
  return internals;
}

/** Signs a message from its header section and relaxed body hash (every algorithm must hash with SHA-256). */
export async function signPrepared(
  message: SplitMessage,
  request: SignatureRequest,
): Promise<SignatureOutcome> {
  const { DkimSigner, parseHeaders } = mailauthInternals();
  const signer = new DkimSigner({
    ...request,
    signatureData: request.signatureData.map((entry) => ({ ...entry })),
    headers: parseHeaders(message.header),
    bodyHash: message.bodyHash,
  });
  await signer.finalize();
  const headers = signer.signatureHeaders;
  return { signatures: headers.length > 0 ? `${headers.join('\r\n')}\r\n` : '', errors: signer.errors };
}
