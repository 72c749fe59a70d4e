// stuffChunk must put on the wire exactly what nodemailer's DataStream does, whatever the bytes
// and wherever chunks split: compared here with nodemailer's own DataStream (not exported by the
// package, so imported by its file) over seeded random bodies.
import assert from 'node:assert/strict';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import DataStream from '../../../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js';
import { streamStart, stuffChunk, useFastDotStuffing } from '../../../relay/delivery/dot-stuffing.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { stuffedOutput } from '../../support/stuffed-output.ts';

async function nodemailerOutput(chunks: readonly Buffer[]): Promise<string> {
  const stream = new DataStream();
  Readable.from(chunks).pipe(stream);
  return (await buffer(stream)).toString('latin1');
}

test('table: each rule of SMTP transparency', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', ''],
    ['plain', 'plain'],
    ['.', '..'],
    ['.start\r\n', '..start\r\n'],
    ['a\r\n.b\r\n', 'a\r\n..b\r\n'],
    ['a\r\n..\r\n', 'a\r\n...\r\n'],
    ['a\nb', 'a\r\nb'],
    ['a\rb', 'a\r\nb'],
    ['a\r.b', 'a\r\n..b'],
    ['a\n.b', 'a\r\n..b'],
    ['\r\r\n\n', '\r\n\r\n\r\n'],
    ['x.y\r\n', 'x.y\r\n'],
  ];
  for (const [input, expected] of cases)
    assert.equal(
      stuffChunk(Buffer.from(input, 'latin1'), streamStart).toString('latin1'),
      expected,
      JSON.stringify(input),
    );
});

test('a chunk that needs nothing inserted comes back as the same buffer, uncopied', () => {
  const clean = Buffer.from('Subject: x\r\n\r\nline one\r\nline two\r\n');
  assert.equal(stuffChunk(clean, 0x0a), clean);
});

test('the state across chunks: the byte before the chunk decides its first byte', () => {
  assert.equal(stuffChunk(Buffer.from('.x'), 0x0a).toString(), '..x');
  assert.equal(stuffChunk(Buffer.from('.x'), 0x61).toString(), '.x');
  assert.equal(stuffChunk(Buffer.from('\nx'), 0x0d).toString(), '\nx');
  assert.equal(stuffChunk(Buffer.from('x'), 0x0d).toString(), '\nx');
  assert.equal(stuffChunk(Buffer.from('.x'), 0x0d).toString(), '\n..x');
});

test('equals nodemailer DataStream on seeded random bodies at random chunk splits', async () => {
  const random = seededRandom(20261202);
  const alphabet = ['\r\n', '\r\n', '\r\n.', 'a', 'bc', '.', '..', '\r', '\n', '\r\r', '\n\n', '\x00'];
  for (let round = 0; round < 1500; round += 1) {
    const body = Buffer.from(
      Array.from({ length: random.int(1, 40) }, () => random.pick(alphabet)).join(''),
      'latin1',
    );
    const chunks = random.chunks(body, 1, 9);
    assert.equal(
      stuffedOutput(chunks),
      await nodemailerOutput(chunks),
      JSON.stringify(body.toString('latin1')),
    );
  }
});

test('equals nodemailer DataStream on random binary bodies (every byte value)', async () => {
  const random = seededRandom(7);
  for (let round = 0; round < 200; round += 1) {
    const body = random.bytes(random.int(1, 3000));
    const chunks = random.chunks(body, 1, 700);
    assert.equal(stuffedOutput(chunks), await nodemailerOutput(chunks));
  }
});

test('installed on a nodemailer connection: a small message goes out in one write, a large one uncopied before the final dot', async () => {
  const { default: NodemailerConnection } = await import('nodemailer/lib/smtp-connection/index.js');
  for (const size of [2_000, 100_000]) {
    const connection = new NodemailerConnection({}) as unknown as Record<string, unknown> & {
      _createSendStream(callback: unknown): Transform;
    };
    // nodemailer pipes the DATA stream into its socket: one that is read, so nothing backs up.
    connection['_socket'] = new PassThrough().resume();
    connection['_envelope'] = { accepted: [] };
    useFastDotStuffing(connection as never);
    const stream = connection._createSendStream(() => undefined);
    const body = Buffer.from(`Subject: s\r\n\r\n${'x'.repeat(size)}\r\n.dot\r\n`, 'latin1');
    const writes: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => writes.push(chunk));
    const ended = new Promise((done) => stream.on('end', done));
    stream.end(body);
    await ended;
    const expected = stuffedOutput([body]);
    assert.equal(
      Buffer.concat(writes).toString('latin1'),
      expected,
      `${String(size)} bytes: the bytes on the wire`,
    );
    assert.equal(writes.length, size < 16_000 ? 1 : 2, `${String(size)} bytes: writes`);
  }
});
