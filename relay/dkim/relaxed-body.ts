// The DKIM body hash under relaxed canonicalization (RFC 6376 section 3.4.4), for a message held in
// memory whose line endings are all CRLF (what the relay spools: message-filter.ts refuses or
// normalises bare CR and LF). mailauth canonicalizes byte by byte in JavaScript, twice over (bare
// LF repair, then whitespace): about half of the 1.16 ms of CPU it took to sign a 100 KB message
// with RSA-2048 (hack/dkim-body-cost.ts, docs/performance.md). Here
// native string searches find the few lines that need rewriting, and a body that needs none is
// hashed where it lies. Pure: the same bytes give the same hash.
import { createHash } from 'node:crypto';

/** A CR not followed by LF, or an LF not preceded by CR: mailauth's own path judges those. */
const bareLineEnding = /\r(?!\n)|(?<!\r)\n/;

/** Whitespace relaxed canonicalization changes: a tab, two spaces in a row, a space ending a line or the body. */
const whitespaceToRewrite = /\t| {2}| \r\n| $/;

/**
 * Every run of spaces and tabs: removed when a CRLF follows, one space otherwise (and the one left
 * ending the body is dropped after). One linear pass (a run is taken whole, then whether a CRLF
 * follows), whatever the input.
 */
const whitespaceRun = /[ \t]+(\r\n)?/g;

export interface SplitMessage {
  /** The header section up to and including the empty line that ends it. */
  readonly header: Buffer;
  /** base64 SHA-256 of the relaxed-canonical body. */
  readonly bodyHash: string;
}

/**
 * The header section and relaxed SHA-256 body hash of a message, or undefined when the message has
 * a bare CR or LF or no empty line after its header section: then mailauth's streaming path, which
 * repairs line endings as it goes, signs it exactly as before.
 */
export function splitAndHashRelaxed(message: Buffer): SplitMessage | undefined {
  const text = message.toString('latin1');
  if (bareLineEnding.test(text)) return undefined;
  const blank = text.startsWith('\r\n') ? -2 : text.indexOf('\r\n\r\n');
  if (blank === -1) return undefined;
  const bodyStart = blank + 4;
  return { header: message.subarray(0, bodyStart), bodyHash: relaxedBodyHash(message, text, bodyStart) };
}

function relaxedBodyHash(message: Buffer, text: string, bodyStart: number): string {
  const hash = createHash('sha256');
  const original = text.slice(bodyStart);
  if (!whitespaceToRewrite.test(original)) {
    const end = withoutTrailingEmptyLines(text, bodyStart, text.length);
    if (end > bodyStart) hash.update(message.subarray(bodyStart, end)).update('\r\n');
    return hash.digest('base64');
  }
  const body = original.replace(whitespaceRun, (_run: string, lineEnd: string | undefined) => lineEnd ?? ' ');
  // The last line has no CRLF when the body does not end in one: its trailing blank goes too.
  const end = withoutTrailingEmptyLines(body, 0, body.endsWith(' ') ? body.length - 1 : body.length);
  if (end > 0) hash.update(body.slice(0, end), 'latin1').update('\r\n');
  return hash.digest('base64');
}

/** Where the body's content ends once every CRLF at its end is dropped (its empty lines and the last line's end). */
function withoutTrailingEmptyLines(text: string, start: number, end: number): number {
  let at = end;
  while (at - start >= 2 && text.charCodeAt(at - 1) === 0x0a && text.charCodeAt(at - 2) === 0x0d) at -= 2;
  return at;
}
