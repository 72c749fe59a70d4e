// RelaySmtpParser must parse exactly as smtp-server's SMTPStream does: the same message bytes, the
// same end of DATA, the same commands after it, wherever TCP splits the input. Both parsers get
// the same seeded random sessions (bodies full of dots, bare CR/LF and near-miss terminators).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { RelaySmtpParser } from '../../../relay/smtp/data-parser.ts';
import { seededRandom } from '../../support/seeded-random.ts';

interface Parsed {
  readonly messages: string[];
  readonly commands: string[];
}

/** Feeds the chunks in order; DATA switches to data mode, each message is read to its end. */
async function parse(parser: SMTPStream, chunks: readonly Buffer[]): Promise<Parsed> {
  const parsed: Parsed = { messages: [], commands: [] };
  parser.oncommand = (command, callback) => {
    const line = command.toString('latin1');
    parsed.commands.push(line);
    if (line !== 'DATA') {
      callback?.();
      return;
    }
    const stream = parser.startDataMode();
    const pieces: Buffer[] = [];
    stream.on('data', (piece: Buffer) => pieces.push(piece));
    stream.on('end', () => {
      parsed.messages.push(Buffer.concat(pieces).toString('latin1'));
      parser.continue();
    });
    callback?.();
  };
  // Not awaited one by one: a session whose input ends inside DATA never calls back. Both parsers
  // get every chunk, then as many event-loop turns as the escape dots need.
  for (const chunk of chunks) parser.write(chunk);
  for (let turn = 0; turn < 200; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return parsed;
}

function randomSession(random: ReturnType<typeof seededRandom>): Buffer {
  const pieces = [
    '\r\n',
    '\r\n',
    '\r\n.',
    '\r\n..',
    'a',
    'text',
    '.',
    '\r',
    '\n',
    '\n.',
    '\r\n.\n',
    '\r\n.\r',
  ];
  const body = (): string => Array.from({ length: random.int(0, 30) }, () => random.pick(pieces)).join('');
  const session = [
    'HELO x\r\nDATA\r\n',
    `${body()}\r\n.\r\n`,
    'NOOP\r\nDATA\r\n',
    `${body()}\r\n.\r\n`,
    'QUIT\r\n',
  ];
  return Buffer.from(session.join(''), 'latin1');
}

test('parses seeded random sessions exactly as smtp-server SMTPStream does, at any split', async () => {
  const random = seededRandom(20261202);
  let endedAsSent = 0;
  for (let round = 0; round < 400; round += 1) {
    const session = randomSession(random);
    const chunks = random.chance(0.2) ? [session] : random.chunks(session, 1, 12);
    const ours = await parse(new RelaySmtpParser(), chunks);
    const upstream = await parse(new SMTPStream(), chunks);
    assert.deepEqual(ours, upstream, JSON.stringify(session.toString('latin1')));
    if (ours.commands.at(-1) === 'QUIT' && ours.messages.length === 2) endedAsSent += 1;
  }
  assert.ok(endedAsSent > 50, `${endedAsSent} sessions parsed to their QUIT: the bodies are not all junk`);
});

test('escape dots are removed and a lone dot line ends the message', async () => {
  const session = Buffer.from('DATA\r\n..one\r\ntwo\r\n...\r\n.\r\nQUIT\r\n', 'latin1');
  const parsed = await parse(new RelaySmtpParser(), [session]);
  assert.deepEqual(parsed, { messages: ['.one\r\ntwo\r\n..\r\n'], commands: ['DATA', 'QUIT'] });
});
