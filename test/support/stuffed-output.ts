// What the relay's useFastDotStuffing puts on the wire for a message sent in these chunks: each
// chunk through stuffChunk with the byte before it, then endOfData. The dot-stuffing tests hold
// nodemailer's DataStream (as published and as patched) to it.
import { endOfData, streamStart, stuffChunk } from '../../relay/delivery/dot-stuffing.ts';

export function stuffedOutput(chunks: readonly Buffer[]): string {
  let previous = streamStart;
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    out.push(stuffChunk(chunk, previous));
    if (chunk.length > 0) previous = chunk[chunk.length - 1] ?? streamStart;
  }
  out.push(endOfData(previous === streamStart ? false : previous));
  return Buffer.concat(out).toString('latin1');
}
