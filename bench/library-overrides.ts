// What each override of a library internal saves, measured on the code alone (no sockets, no spool):
// the library's own code and the relay's replacement run over the same input, CPU time per call or
// per MB. `node bench/library-overrides.ts [rounds]`; figures in docs/performance.md.
//   parser   smtp-server's SMTPStream vs RelaySmtpParser (relay/smtp/data-parser.ts): DATA bodies of
//            2 KB and 100 KB of text lines, in 64 KiB chunks, each parsed to its end
//   stuffing nodemailer's DataStream vs the same with useFastDotStuffing's transform (stuffChunk)
//   proxy    _handleProxy for a client without a PROXY header, to its callback: smtp-server's (an id
//            from randomBytes + BigInt, the callback a turn later) vs RelaySmtpServer's (pooled id, at once)
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { SMTPServer } from 'smtp-server';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import DataStream from '../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js';
import { endOfData, streamStart, stuffChunk, useFastDotStuffing } from '../relay/delivery/dot-stuffing.ts';
import { RelaySmtpServer } from '../relay/smtp/connection.ts';
import { RelaySmtpParser } from '../relay/smtp/data-parser.ts';

const rounds = Number(process.argv[2] ?? 5);

/** A body of mail-like text lines (about 70 bytes, one in 50 starting with a dot) of `size` bytes. */
function body(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < size; index += 1) {
    const line = `${index % 50 === 0 ? '.' : ''}Lorem ipsum dolor sit amet, consectetur adipiscing elit ${index}\r\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1');
}

function chunks(data: Buffer, size = 64 * 1024): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size)
    pieces.push(data.subarray(offset, offset + size));
  return pieces;
}

/** The same dot-stuffed body as the wire carries it, for the parsers. */
function onTheWire(data: Buffer): Buffer {
  return Buffer.concat([stuffChunk(data, streamStart), endOfData(data.at(-1) ?? false)]);
}

async function parseOnce(parser: SMTPStream, input: readonly Buffer[]): Promise<void> {
  const done = new Promise<void>((resolve) => {
    const stream = parser.startDataMode();
    stream.on('data', () => undefined);
    stream.on('end', () => {
      parser.continue();
      resolve();
    });
  });
  for (const chunk of input) parser.write(chunk);
  await done;
}

async function cpuMicros(run: () => Promise<void> | void, times: number): Promise<number> {
  const before = process.cpuUsage();
  for (let index = 0; index < times; index += 1) await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / times;
}

const report = (what: string, library: number, relay: number, unit: string) => {
  console.log(
    `${what.padEnd(28)} library ${library.toFixed(2).padStart(8)} ${unit}   relay ${relay.toFixed(2).padStart(8)} ${unit}   saved ${(100 * (1 - relay / library)).toFixed(0)}%`,
  );
};

for (let round = 0; round < rounds; round += 1) {
  for (const [size, times] of [
    [2_048, 20_000],
    [100 * 1024, 1_000],
  ] as const) {
    const input = chunks(onTheWire(body(size)));
    const upstream = new SMTPStream();
    const relay = new RelaySmtpParser();
    await cpuMicros(() => parseOnce(upstream, input), times / 10);
    await cpuMicros(() => parseOnce(relay, input), times / 10);
    report(
      `parser, ${size / 1024} KB`,
      await cpuMicros(() => parseOnce(upstream, input), times),
      await cpuMicros(() => parseOnce(relay, input), times),
      'µs/msg',
    );
    const raw = chunks(body(size));
    const nodemailer = async () => {
      const stream = new DataStream();
      Readable.from(raw).pipe(stream);
      await buffer(stream);
    };
    // The relay's way: nodemailer's own DataStream with its transform replaced, through the same seam
    // useFastDotStuffing uses on a real connection, so both go through the same stream machinery.
    const seam = { _createSendStream: (): DataStream => new DataStream() };
    useFastDotStuffing(seam as unknown as Parameters<typeof useFastDotStuffing>[0]);
    const stuffed = async () => {
      const stream = seam._createSendStream();
      Readable.from(raw).pipe(stream);
      await buffer(stream);
    };
    await cpuMicros(nodemailer, times / 10);
    await cpuMicros(stuffed, times / 10);
    report(
      `dot-stuffing, ${size / 1024} KB`,
      await cpuMicros(nodemailer, times),
      await cpuMicros(stuffed, times),
      'µs/msg',
    );
  }
  // Both methods on one plain server (neither reads more than options and _expectsProxyHeader).
  const server = new SMTPServer({ logger: false });
  const socket = new Socket();
  const upstream = () =>
    new Promise<void>((resolve) => {
      SMTPServer.prototype._handleProxy.call(server, socket, () => {
        resolve();
      });
    });
  const relay = () =>
    new Promise<void>((resolve) => {
      RelaySmtpServer.prototype._handleProxy.call(server, socket, () => {
        resolve();
      });
    });
  report('_handleProxy', await cpuMicros(upstream, 100_000), await cpuMicros(relay, 100_000), 'µs/conn');
}
