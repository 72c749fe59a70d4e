// The body as it streams through: line-ending policy (case 1), size cap with the excess discarded
// (case 8), loop detection over the header section (case 16) and the trace headers the relay adds.
// Synchronous and free of I/O: chunks in, chunks out, so it is tested without sockets.
import type { LineEndingPolicy } from '../config/types.ts';
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
    return normalised ? this.#headers(normalised) : [];
  }

  end(): Buffer[] {
    if (this.#failure) return [];
    const tail = this.#lineEndings(Buffer.alloc(0), true);
    if (!tail) return [];
    const out = this.#headers(tail);
    const rest = this.#headerBuffer ? this.#flushHeaders(false) : [];
    return this.failure ? [] : [...out, ...rest];
  }

  #fail(reply: SmtpReply): [] {
    this.#failure = reply;
    this.#headerBuffer = undefined;
    return [];
  }

  /** Applies the line-ending policy; undefined when the message has just been refused. */
  #lineEndings(chunk: Buffer, final: boolean): Buffer | undefined {
    const normalise = this.#options.lineEndings === 'normalise';
    const out: number[] | undefined = normalise ? [] : undefined;
    let previousCr = this.#pendingCr;
    for (const byte of chunk) {
      const bareLf = byte === LF && !previousCr;
      const bareCr = previousCr && byte !== LF;
      if ((bareLf || bareCr) && !normalise) {
        this.#fail(replies.bareLineEnding);
        return undefined;
      }
      if (out) {
        if (bareCr) out.push(LF);
        if (bareLf) out.push(CR);
        out.push(byte);
      }
      previousCr = byte === CR;
    }
    if (final && previousCr) {
      if (!normalise) {
        this.#fail(replies.bareLineEnding);
        return undefined;
      }
      out?.push(LF);
      previousCr = false;
    }
    this.#pendingCr = previousCr;
    return out ? Buffer.from(out) : chunk;
  }

  #headers(chunk: Buffer): Buffer[] {
    if (!this.#headerBuffer) return chunk.length > 0 ? [chunk] : [];
    this.#headerBuffer.push(chunk);
    this.#headerLength += chunk.length;
    const section = Buffer.concat(this.#headerBuffer);
    this.#headerBuffer = [section];
    const startsWithBlank = section.length >= 2 && section[0] === CR && section[1] === LF;
    const end = startsWithBlank ? 0 : section.indexOf(HEADER_END);
    if (end === -1 && this.#headerLength < MAX_HEADER_SECTION) return [];
    return this.#flushHeaders(true);
  }

  #flushHeaders(complete: boolean): Buffer[] {
    const section = Buffer.concat(this.#headerBuffer ?? []);
    this.#headerBuffer = undefined;
    const text = section.toString('latin1');
    const blank = text.startsWith('\r\n') ? 0 : text.indexOf('\r\n\r\n');
    const headerText = blank === -1 ? text : text.slice(0, blank);
    const received = headerText.match(/^received:/gim)?.length ?? 0;
    if (received > this.#options.maxReceivedHeaders) return this.#fail(replies.mailLoop);
    const missing = this.#options.addIfMissing
      .filter(({ name }) => !new RegExp(`^${name}:`, 'im').test(headerText))
      .map(({ header }) => header)
      .join('');
    const added = Buffer.from(
      this.#options.prependHeaders + (complete || blank !== -1 ? missing : ''),
      'latin1',
    );
    return [added, section];
  }
}
