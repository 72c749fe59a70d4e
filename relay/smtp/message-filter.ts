// The body as it streams through: line-ending policy (case 1), size cap with the excess discarded
// (case 8), no line over 998 octets (case 34), loop detection over the header section (case 16) and
// the trace headers the relay adds.
// Synchronous and free of I/O: chunks in, chunks out, so it is tested without sockets.
import type { LineEndingPolicy } from '../config/types.ts';
import { MAX_LINE_OCTETS, scanLineLengths } from './line-length.ts';
import { replies, type SmtpReply } from './replies.ts';

export interface MessageFilterOptions {
  readonly lineEndings: LineEndingPolicy;
  readonly maxBytes: number;
  readonly maxReceivedHeaders: number;
  /** Written before the client's headers (Received:). */
  readonly prependHeaders: string;
  /** Headers added when the client's header section lacks them (submission: Message-ID:, Date:). */
  readonly addIfMissing: readonly { readonly name: string; readonly header: string }[];
}

const CR = 0x0d;
const LF = 0x0a;
const MAX_HEADER_SECTION = 256 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export class MessageFilter {
  readonly #options: MessageFilterOptions;
  #failure: SmtpReply | undefined;
  #pendingCr = false;
  /** Octets of the line not yet ended by LF, from earlier chunks. */
  #lineOctets = 0;
  #bytesIn = 0;
  #headerBuffer: Buffer[] | undefined = [];
  #headerLength = 0;

  constructor(options: MessageFilterOptions) {
    this.#options = options;
  }

  /** Why the message is refused, once it is; later input is then counted and dropped. */
  get failure(): SmtpReply | undefined {
    return this.#failure;
  }

  get bytesIn(): number {
    return this.#bytesIn;
  }

  push(chunk: Buffer): Buffer[] {
    this.#bytesIn += chunk.length;
    if (this.#failure) return [];
    if (this.#bytesIn > this.#options.maxBytes) return this.#fail(replies.messageTooBig);
    const normalised = this.#lineEndings(chunk, false);
    return normalised && this.#lineLengths(normalised) ? this.#headers(normalised) : [];
  }

  end(): Buffer[] {
    if (this.#failure) return [];
    const tail = this.#lineEndings(Buffer.alloc(0), true);
    if (!tail || !this.#lineLengths(tail)) return [];
    // The parser ends every body with CRLF; an unterminated last line is judged as it stands.
    if (this.#lineOctets > MAX_LINE_OCTETS) return this.#fail(replies.lineTooLong);
    const out = this.#headers(tail);
    const rest = this.#headerBuffer ? this.#flushHeaders(false) : [];
    return this.failure ? [] : [...out, ...rest];
  }

  #fail(reply: SmtpReply): [] {
    this.#failure = reply;
    this.#headerBuffer = undefined;
    return [];
  }

  /** False, and the message refused, when a line is longer than 998 octets (case 34). */
  #lineLengths(chunk: Buffer): boolean {
    const carried = scanLineLengths(chunk, this.#lineOctets);
    if (carried === -1) {
      this.#fail(replies.lineTooLong);
      return false;
    }
    this.#lineOctets = carried;
    return true;
  }

  /** Applies the line-ending policy; undefined when the message has just been refused. */
  #lineEndings(chunk: Buffer, final: boolean): Buffer | undefined {
    // Nearly every chunk is clean CRLF text: checked with native searches, passed on uncopied.
    if (!hasBareLineEnding(chunk, this.#pendingCr, final)) {
      if (chunk.length > 0) this.#pendingCr = chunk[chunk.length - 1] === CR;
      return chunk;
    }
    const normalise = this.#options.lineEndings === 'normalise';
    if (!normalise) {
      this.#fail(replies.bareLineEnding);
      return undefined;
    }
    const out: number[] = [];
    let previousCr = this.#pendingCr;
    for (const byte of chunk) {
      const bareLf = byte === LF && !previousCr;
      const bareCr = previousCr && byte !== LF;
      if (bareCr) out.push(LF);
      if (bareLf) out.push(CR);
      out.push(byte);
      previousCr = byte === CR;
    }
    if (final && previousCr) {
      out.push(LF);
      previousCr = false;
    }
    this.#pendingCr = previousCr;
    return Buffer.from(out);
  }

  #headers(chunk: Buffer): Buffer[] {
    if (!this.#headerBuffer) return chunk.length > 0 ? [chunk] : [];
    this.#headerBuffer.push(chunk);
    this.#headerLength += chunk.length;
    // Most header sections arrive whole in the first chunk: joined (copied) only when they do not.
    const section = this.#headerBuffer.length === 1 ? chunk : Buffer.concat(this.#headerBuffer);
    this.#headerBuffer = [section];
    const startsWithBlank = section.length >= 2 && section[0] === CR && section[1] === LF;
    const end = startsWithBlank ? 0 : section.indexOf(HEADER_END);
    if (end === -1 && this.#headerLength < MAX_HEADER_SECTION) return [];
    return this.#flushHeaders(true);
  }

  #flushHeaders(complete: boolean): Buffer[] {
    const pieces = this.#headerBuffer ?? [];
    const section = pieces.length === 1 && pieces[0] ? pieces[0] : Buffer.concat(pieces);
    this.#headerBuffer = undefined;
    const startsWithBlank = section.length >= 2 && section[0] === CR && section[1] === LF;
    const blank = startsWithBlank ? 0 : section.indexOf(HEADER_END);
    // Only the header section is read as text, not the body that came in the same chunk.
    const headerText = section.toString('latin1', 0, blank === -1 ? section.length : blank);
    const received = headerText.match(/^received:/gim)?.length ?? 0;
    if (received > this.#options.maxReceivedHeaders) return this.#fail(replies.mailLoop);
    const missing = this.#options.addIfMissing
      .filter(({ name }) => !headerFieldPattern(name).test(headerText))
      .map(({ header }) => header)
      .join('');
    const added = Buffer.from(
      this.#options.prependHeaders + (complete || blank !== -1 ? missing : ''),
      'latin1',
    );
    return [added, section];
  }
}

const headerFieldPatterns = new Map<string, RegExp>();

/** A header field of this name at the start of a line (case-insensitive), compiled once per name. */
function headerFieldPattern(name: string): RegExp {
  let pattern = headerFieldPatterns.get(name);
  if (pattern === undefined) {
    pattern = new RegExp(`^${name}:`, 'im');
    headerFieldPatterns.set(name, pattern);
  }
  return pattern;
}

/**
 * A CR not followed by LF or an LF not preceded by CR, within the chunk: one native scan that rules
 * out nearly every chunk. It also matches an LF that starts the chunk and a CR that ends it, which
 * the exact checks below judge with the neighbouring chunk's byte.
 */
const mayBeBare = /\r(?!\n)|(?<!\r)\n/;

/**
 * Whether the chunk has a LF without a CR before it or a CR without a LF after it. `pendingCr` says
 * the previous chunk ended in CR; a CR ending this chunk is judged by the next one, or is bare when
 * this is the final chunk.
 */
function hasBareLineEnding(chunk: Buffer, pendingCr: boolean, final: boolean): boolean {
  const last = chunk.length - 1;
  if (pendingCr && last >= 0 && chunk[0] !== LF) return true;
  if (last >= 0 && !mayBeBare.test(chunk.toString('latin1'))) return false;
  for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) {
    if (at === 0 ? !pendingCr : chunk[at - 1] !== CR) return true;
  }
  for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
    if (at < last && chunk[at + 1] !== LF) return true;
  }
  const endsInCr = last >= 0 ? chunk[last] === CR : pendingCr;
  return final && endsInCr;
}
