// RelaySmtpParser must parse exactly as smtp-server's SMTPStream does: the same message bytes, the
// same end of DATA, the same commands after it, wherever TCP splits the input. Both parsers get
// the same seeded random sessions (bodies full of dots, bare CR/LF and near-miss terminators).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { RelaySmtpParser } from '../../../relay/smtp/data-parser.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { parseSession, randomSession } from '../../support/smtp-stream-sessions.ts';

test('parses seeded random sessions exactly as smtp-server SMTPStream does, at any split', async () => {
  const random = seededRandom(20261202);
  let endedAsSent = 0;
  for (let round = 0; round < 400; round += 1) {
    const session = randomSession(random);
    const chunks = random.chance(0.2) ? [session] : random.chunks(session, 1, 12);
    const ours = await parseSession(new RelaySmtpParser(), chunks);
    const upstream = await parseSession(new SMTPStream(), chunks);
    assert.deepEqual(ours, upstream, JSON.stringify(session.toString('latin1')));
    if (ours.commands.at(-1) === 'QUIT' && ours.messages.length === 2) endedAsSent += 1;
  }
  assert.ok(endedAsSent > 50, `${endedAsSent} sessions parsed to their QUIT: the bodies are not all junk`);
});

test('escape dots are removed and a lone dot line ends the message', async () => {
  const session = Buffer.from('DATA\r\n..one\r\ntwo\r\n...\r\n.\r\nQUIT\r\n', 'latin1');
  const parsed = await parseSession(new RelaySmtpParser(), [session]);
  assert.deepEqual(parsed, { messages: ['.one\r\ntwo\r\n..\r\n'], commands: ['DATA', 'QUIT'] });
});
