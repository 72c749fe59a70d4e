// SMTP transparency for the outgoing DATA stream (RFC 5321 4.5.2), byte for byte what nodemailer's
// DataStream produces: a bare CR or a bare LF becomes CRLF, a dot that starts a line (after CRLF,
// after a bare CR, or at the very start) is doubled, and endOfData is its final dot. nodemailer
// does it with a JavaScript loop over every byte, the largest single cost of relaying a 100 KB
// message; this rules out a clean chunk with one regular-expression scan and otherwise finds the
// line breaks with native indexOf, looking only at the bytes around them. It is the upstream fix
// in waiting, installed on each connection at nodemailer's seam for it (useFastDotStuffing).
import type { Transform, TransformCallback } from 'node:stream';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_CR = Buffer.from('\r');
const INSERT_DOT = Buffer.from('.');

/**
 * Matches wherever an insertion may be due after the first byte: a CR not followed by LF, an LF
 * not preceded by CR, a dot after an LF. One native scan of the whole chunk, so a chunk of clean
 * CRLF text without line-start dots — nearly every chunk — costs no JavaScript per line.
 */
const mayNeedInsertion = /\r(?!\n)|(?<!\r)\n|\n\./;

/** The stream has sent nothing yet: a dot as its first byte starts a line. */
export const streamStart = -1;

/** What to insert before the byte at `index`, given the byte before it (or streamStart). */
function insertionBefore(byte: number, previous: number): Buffer | undefined {
  if (previous === CR && byte !== LF) return byte === DOT ? INSERT_LF_DOT : INSERT_LF;
  if (byte === LF && previous !== CR) return INSERT_CR;
  if (byte === DOT && (previous === LF || previous === streamStart)) return INSERT_DOT;
  return undefined;
}

/**
 * The chunk as it goes on the wire, given the last byte sent before it (streamStart for none).
 * Returns the chunk itself when nothing needs inserting. Only the first byte and the bytes at and
 * just after a CR or an LF can need an insertion, so only those are looked at, and only when the
 * pattern says one of them may.
 */
export function stuffChunk(chunk: Buffer, previousByte: number): Buffer {
  const length = chunk.length;
  if (length === 0) return chunk;
  const first = chunk[0] ?? streamStart;
  if (insertionBefore(first, previousByte) === undefined && !mayNeedInsertion.test(chunk.toString('latin1')))
    return chunk;
  const pieces: Buffer[] = [];
  let copiedUpTo = 0;
  let lastChecked = -1;
  const check = (index: number): void => {
    lastChecked = index;
    const previous = index === 0 ? previousByte : (chunk[index - 1] ?? streamStart);
    const insertion = insertionBefore(chunk[index] ?? streamStart, previous);
    if (insertion === undefined) return;
    if (index > copiedUpTo) pieces.push(chunk.subarray(copiedUpTo, index));
    pieces.push(insertion);
    copiedUpTo = index;
  };
  check(0);
  let nextCr = chunk.indexOf(CR, 0);
  let nextLf = chunk.indexOf(LF, 0);
  while (nextCr !== -1 || nextLf !== -1) {
    let breakAt: number;
    if (nextLf === -1 || (nextCr !== -1 && nextCr < nextLf)) {
      breakAt = nextCr;
      nextCr = chunk.indexOf(CR, breakAt + 1);
    } else {
      breakAt = nextLf;
      nextLf = chunk.indexOf(LF, breakAt + 1);
    }
    if (breakAt > lastChecked) check(breakAt);
    if (breakAt + 1 < length) check(breakAt + 1);
  }
  if (pieces.length === 0) return chunk;
  if (copiedUpTo < length) pieces.push(chunk.subarray(copiedUpTo));
  return Buffer.concat(pieces);
}

/** Up to this size the last chunk and the final dot are joined into one write; past it, written apart. */
const joinedEndingBytes = 16 * 1024;

/** nodemailer's DataStream (smtp-connection/data-stream.js, not exported): the state it keeps. */
interface DataStream extends Transform {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}

/** The part of nodemailer's SMTPConnection this replaces: where it makes the DATA stream. */
interface SendStreamSeam {
  _createSendStream(callback: unknown): DataStream;
}

/** What nodemailer's DataStream writes after the body, given its last byte: the end of DATA. */
export function endOfData(lastByte: number | false): Buffer {
  if (lastByte === LF) return Buffer.from('.\r\n');
  if (lastByte === CR) return Buffer.from('\n.\r\n');
  return Buffer.from('\r\n.\r\n');
}

/**
 * Makes every DATA stream of this connection escape with stuffChunk. The stream stays nodemailer's
 * own (its byte counts, its lastByte); its transform is replaced, and each output chunk is held
 * back until the next one comes, so that the last goes out with the final dot in one write instead
 * of two (a message that fits in a chunk is then one write) when it is small enough to copy.
 */
export function useFastDotStuffing(connection: SMTPConnection): void {
  const seam = connection as unknown as SendStreamSeam;
  if (typeof seam._createSendStream !== 'function')
    throw new TypeError('nodemailer SMTPConnection no longer has _createSendStream: update dot-stuffing.ts');
  const createSendStream = seam._createSendStream.bind(connection);
  seam._createSendStream = (callback) => {
    const stream = createSendStream(callback);
    let held: Buffer | undefined;
    stream._transform = (chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback) => {
      const input = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (input.length === 0) {
        done();
        return;
      }
      const output = stuffChunk(input, stream.lastByte === false ? streamStart : stream.lastByte);
      stream.inByteCount += input.length;
      stream.outByteCount += output.length;
      stream.lastByte = input[input.length - 1] ?? false;
      const previous = held;
      held = output;
      done(null, previous);
    };
    stream._flush = (done: TransformCallback) => {
      const ending = endOfData(stream.lastByte);
      stream.outByteCount += ending.length;
      if (held === undefined) done(null, ending);
      else if (held.length <= joinedEndingBytes) done(null, Buffer.concat([held, ending]));
      else {
        // A large last chunk is not copied to add five bytes: two writes cost less than the copy.
        stream.push(held);
        done(null, ending);
      }
    };
    return stream;
  };
}
