// smtp-server's command and DATA parser with one change: in DATA it finds the next "<LF>." with
// native indexOf instead of testing every byte in a JavaScript loop (smtp-stream.js,
// _feedDataStream), the receiving side's largest per-byte cost. Everything else is upstream's
// method unchanged, in the same order — the end-of-data and escape-dot checks, the 4 bytes kept
// across chunks, back-pressure — so the security properties its comments explain (no early end of
// DATA whatever the TCP segmentation) carry over. RelayConnection installs it through smtp-server's
// own seam for a parser (_createParser); the change is small enough to go upstream as is.
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

const END_SEQUENCE = Buffer.from('\r\n.\r\n');
const END_AT_START = Buffer.from('.\r\n');
const LINE_START_DOT = Buffer.from('\n.');
const DOT = 0x2e;

type Callback = (error?: Error | null) => void;

export class RelaySmtpParser extends SMTPStream {
  override _feedDataStream(input: Buffer, done: Callback): void {
    // Only called in data mode, which always has a stream.
    const dataStream = this._dataStream;
    if (!dataStream) {
      done();
      return;
    }
    let chunk = input;
    if (this._lastBytes && this._lastBytes.length) {
      chunk = Buffer.concat([this._lastBytes, chunk], this._lastBytes.length + chunk.length);
      this._lastBytes = false;
    }
    let length = chunk.length;
    if (this._atDataStart && length >= 3 && chunk.compare(END_AT_START, 0, 3, 0, 3) === 0) {
      this._endDataMode(false, chunk.subarray(3), done);
      return;
    }
    if (this._atDataStart && length >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
      chunk = chunk.subarray(1);
      length -= 1;
      this._atDataStart = false;
    }
    // A dot at index i (2 <= i < length - 2) that follows an LF, exactly the positions upstream's
    // loop tests.
    for (let dot = chunk.indexOf(LINE_START_DOT, 1) + 1; dot > 0 && dot < length - 2;) {
      if (chunk.compare(END_SEQUENCE, 0, 5, dot - 2, dot + 3) === 0) {
        const body = chunk.subarray(0, dot);
        this._countDataBytes(body.length);
        this._endDataMode(body, chunk.subarray(dot + 3), done);
        return;
      }
      if (chunk[dot + 1] === DOT) {
        const before = chunk.subarray(0, dot);
        this._lastBytes = false;
        this._countDataBytes(before.length);
        if (dataStream.writable) dataStream.write(before);
        const rest = chunk.subarray(dot + 1);
        setImmediate(() => {
          this._feedDataStream(rest, done);
        });
        return;
      }
      dot = chunk.indexOf(LINE_START_DOT, dot) + 1;
    }
    this._lastBytes = chunk.length < 4 ? chunk : chunk.subarray(chunk.length - 4);
    if (this._lastBytes.length >= chunk.length) {
      done();
      return;
    }
    const ready = chunk.subarray(0, chunk.length - this._lastBytes.length);
    this._countDataBytes(ready.length);
    if (!dataStream.writable) {
      done();
      return;
    }
    const handled = dataStream.write(ready);
    if (handled || dataStream.destroyed) {
      done();
      return;
    }
    // A stream the application destroys never drains, it only closes.
    const onDrain = (): void => {
      dataStream.removeListener('drain', onDrain);
      dataStream.removeListener('close', onDrain);
      done();
    };
    dataStream.once('drain', onDrain);
    dataStream.once('close', onDrain);
  }
}
