// Case 34 with real peers: swaks sends through the relay process to Postfix's smtp-sink. A line of
// 998 octets reaches the next hop whole; a line of 999 is refused at the end of DATA with 550 5.5.2
// and never reaches it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

const run = promisify(execFile);
let sink: SmtpSink;
let relay: RelayProcess;

before(async () => {
  sink = await startSmtpSink();
  relay = await startRelayProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0 },
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
      allowPrivateDestinations: true,
    },
  });
});

after(async () => {
  await relay.stop();
  await sink.stop();
});

/** swaks sends the message from a file; its transcript and exit code come back. */
async function swaks(message: string): Promise<{ code: number; transcript: string }> {
  const file = join(relay.dir, `message-${Date.now()}.eml`);
  await writeFile(file, message, 'latin1');
  const args = ['--server', `127.0.0.1:${relay.smtpPorts['smtp'] ?? 0}`, '--from', 'a@example.org'];
  try {
    const { stdout } = await run('swaks', [...args, '--to', 'b@x.test', '--data', `@${file}`], {
      timeout: 20_000,
    });
    return { code: 0, transcript: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, transcript: failed.stdout ?? '' };
  } finally {
    await rm(file, { force: true });
  }
}

const message = (subject: string, line: string): string =>
  `From: <a@example.org>\r\nTo: <b@x.test>\r\nSubject: ${subject}\r\n\r\nbefore\r\n${line}\r\nafter\r\n`;

test('case 34: a 999-octet line is refused with 550 5.5.2 at the end of DATA; the next hop never sees it', async () => {
  const sent = await swaks(message('too long', 'y'.repeat(999)));
  assert.notEqual(sent.code, 0, sent.transcript);
  assert.match(
    sent.transcript,
    /<\*\* +550 5\.5\.2 Line longer than 998 octets in message data is not accepted/,
  );
  const accepted = await swaks(message('boundary', 'x'.repeat(998)));
  assert.equal(accepted.code, 0, accepted.transcript);
  const [dumped] = await sink.waitForMessages(1, 15_000);
  assert.ok(dumped);
  // smtp-sink writes its dump with LF line ends.
  assert.ok(dumped.raw.includes(`\nbefore\n${'x'.repeat(998)}\nafter\n`), 'the 998-octet line arrives whole');
  assert.doesNotMatch(dumped.raw, /Subject: too long/);
  const longest = Math.max(...dumped.raw.split('\n').map((line) => line.length));
  assert.ok(longest <= 998, `the next hop got a line of ${longest} octets`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await sink.messages()).length, 1, 'only the accepted message was delivered');
});
