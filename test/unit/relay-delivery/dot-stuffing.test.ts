// stuffChunk must put on the wire exactly what nodemailer's DataStream does, whatever the bytes
// and wherever chunks split: compared here with nodemailer's own DataStream (not exported by the
// package, so imported by its file) over seeded random bodies.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import DataStream from '../../../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js';
import { streamStart, stuffChunk } from '../../../relay/delivery/dot-stuffing.ts';
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
