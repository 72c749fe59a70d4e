// What a client does wrong is logged once, at info or warn, under its own event name, never as an
// error-level internal_error with a stack: a hang-up in the middle of DATA, and TLS handshakes that
// fail on the STARTTLS and the implicit-TLS listener. The relay runs as its own process and its
// JSON log lines are read from its stdout.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import type { LogLine } from '../../support/relay-process.ts';
import { startTlsAuthRelayProcess } from '../../support/tls-auth-relay.ts';
import { SmtpTestClient } from './smtp-client.ts';

let setup: Awaited<ReturnType<typeof startTlsAuthRelayProcess>>;

before(async () => {
  setup = await startTlsAuthRelayProcess({
    users: [`alice:${bcrypt.hashSync('alice-pass', 4)}`],
    config: {
      listeners: [
        { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
        { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
      ],
      policy: { allowedNetworks: ['127.0.0.0/8'] },
      limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0 },
    },
  });
});

after(() => setup.stop());

function port(listener: string): number {
  return setup.relay.smtpPorts[listener] ?? 0;
}

/** The log lines the relay writes from now on, once `done` has been seen and a moment has passed. */
async function linesDuring(work: () => Promise<void>, done: (line: LogLine) => boolean): Promise<LogLine[]> {
  const start = setup.relay.logs.length;
  await work();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    setup.relay.waitForLog((line) => setup.relay.logs.indexOf(line) >= start && done(line)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no such log line in 5 s: ${JSON.stringify(setup.relay.logs.slice(start))}`));
      }, 5000);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
  // A duplicate would follow within the same turn or the next few; give it time to show.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return setup.relay.logs.slice(start);
}

function assertNoErrorLevel(lines: readonly LogLine[]): void {
  const errors = lines.filter((line) => line['level'] === 'error' || line.event === 'internal_error');
  assert.deepEqual(errors, [], 'client behaviour is not an internal error');
  assert.ok(!JSON.stringify(lines).includes('"stack"'), 'no stack trace is logged');
}

async function closed(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  await new Promise((resolve) => socket.once('close', resolve));
}

for (const hangUp of ['close', 'reset'] as const) {
  test(`a client that hangs up (${hangUp}) in the middle of DATA is logged once at info, with no stack`, async () => {
    const lines = await linesDuring(
      async () => {
        const client = await SmtpTestClient.connect(port('smtp'));
        assert.equal((await client.reply()).code, 220);
        assert.equal((await client.command('EHLO client.test')).code, 250);
        assert.equal((await client.command('MAIL FROM:<a@shop.example>')).code, 250);
        assert.equal((await client.command('RCPT TO:<b@example.com>')).code, 250);
        assert.equal((await client.command('DATA')).code, 354);
        client.write('Subject: cut short\r\n\r\nthe first half of the message');
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (hangUp === 'close') client.close();
        else client.reset();
      },
      (line) => line.event === 'client_disconnected_in_data',
    );
    assertNoErrorLevel(lines);
    const shown = lines.filter((line) => line['level'] !== 'debug' && line.event?.startsWith('client_'));
    const [event] = shown;
    assert.ok(event && shown.length === 1, JSON.stringify(lines));
    assert.equal(event.event, 'client_disconnected_in_data');
    assert.equal(event['level'], 'info');
    assert.equal(event['client'], '127.0.0.1');
    assert.equal(typeof event['queueId'], 'string');
  });
}

const handshakes: [string, string, () => Promise<void>][] = [
  [
    'a plaintext command on the implicit-TLS listener',
    'smtps',
    async () => {
      const socket = connect({ host: '127.0.0.1', port: port('smtps') });
      socket.on('error', () => undefined);
      socket.write('EHLO plaintext.test\r\n');
      await closed(socket);
    },
  ],
  [
    'a client on the implicit-TLS listener that does not trust the certificate',
    'smtps',
    async () => {
      const socket = connectTls({ host: '127.0.0.1', port: port('smtps'), servername: 'relay.test' });
      socket.on('error', () => undefined);
      await closed(socket);
    },
  ],
  [
    'bytes that are not TLS after STARTTLS',
    'smtp',
    async () => {
      const client = await SmtpTestClient.connect(port('smtp'));
      assert.equal((await client.reply()).code, 220);
      assert.equal((await client.command('EHLO client.test')).code, 250);
      assert.equal((await client.command('STARTTLS')).code, 220);
      client.write('this is not a TLS ClientHello\r\n');
      await client.closedByServer();
    },
  ],
];

for (const [name, listener, handshake] of handshakes) {
  test(`a failed TLS handshake (${name}) is logged once at warn as tls_handshake_failed`, async () => {
    const lines = await linesDuring(handshake, (line) => line.event === 'tls_handshake_failed');
    assertNoErrorLevel(lines);
    const events = lines.filter((line) => line.event === 'tls_handshake_failed');
    const [event] = events;
    assert.ok(event && events.length === 1, JSON.stringify(lines));
    assert.equal(event['level'], 'warn');
    assert.equal(event['listener'], listener);
    assert.equal(event['client'], '127.0.0.1');
    assert.equal(typeof event['reason'], 'string');
    assert.ok(!lines.some((line) => line.event === 'smtp_error'), JSON.stringify(lines));
  });
}
