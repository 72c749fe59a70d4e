// Case 11 at the size docs/security-cases.md names: 500 slow sessions (each stuck mid-line) do not stop
// another client from completing a whole transaction; and the per-command deadline closes a session
// that stops talking, with a 421.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { SmtpTestClient } from './smtp-client.ts';

let relay: InProcessRelay;
let strict: InProcessRelay;

const relayConfig = (commandTimeoutSeconds: number) => ({
  hostname: 'relay.test',
  listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
  policy: { allowedNetworks: ['127.0.0.0/8'] },
  limits: {
    greetingDelayMs: 0,
    allowedNetworksGreetingDelayMs: 0,
    maxConnections: 1000,
    maxConnectionsPerIp: 1000,
    commandTimeoutSeconds,
    sessionTimeoutSeconds: 120,
  },
});

before(async () => {
  // Slow sessions must outlive the setup of all 500 on a loaded machine: a long command deadline.
  relay = await startRelayInProcess(relayConfig(60));
  strict = await startRelayInProcess(relayConfig(2));
});

after(async () => {
  await relay.stop();
  await strict.stop();
});

test('case 11: 500 slow sessions do not stop another client completing a transaction', async () => {
  const slow: SmtpTestClient[] = [];
  try {
    for (let i = 0; i < 500; i++) {
      const client = await SmtpTestClient.connect(relay.port());
      client.write('EHLO sl'); // no line end: the session waits on a command that never finishes
      slow.push(client);
    }
    const deadline = Date.now() + 10_000;
    while (relay.relay.openSessions() < 500 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(relay.relay.openSessions() >= 500, `${relay.relay.openSessions()} sessions open`);
    const client = await SmtpTestClient.connect(relay.port());
    try {
      assert.equal((await client.reply()).code, 220);
      for (const [command, code] of [
        ['EHLO client.test', 250],
        ['MAIL FROM:<app@example.com>', 250],
        ['RCPT TO:<someone@example.net>', 250],
        ['DATA', 354],
      ] as const) {
        assert.equal((await client.command(command)).code, code, command);
      }
      assert.match(
        (await client.command('Subject: served\r\n\r\nwhile 500 others dawdle\r\n.')).text,
        /^250 /,
      );
    } finally {
      client.close();
    }
  } finally {
    for (const client of slow) client.close();
  }
});

test('case 11: a session silent for longer than the per-command deadline is closed with 421', async () => {
  const client = await SmtpTestClient.connect(strict.port());
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  const started = Date.now();
  const reply = await client.reply();
  assert.match(reply.text, /^421 /);
  await client.closedByServer();
  assert.ok(Date.now() - started >= 1500, 'not before the deadline');
});
