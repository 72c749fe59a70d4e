// Cases 23 and 24: a smarthost with TLS required never gets plaintext: no STARTTLS, or a certificate
// that does not verify, defers the message and counts the failure; opportunistic TLS falls back to
// plaintext only because the policy says so, and that is logged and counted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

let certDir: string;
let plaintextSink: SmtpSink;

before(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'mailfleet-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=smarthost.invalid',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  plaintextSink = await startSmtpSink();
});

after(async () => {
  await plaintextSink.stop();
  await rm(certDir, { recursive: true, force: true });
});

async function selfSignedSmarthost(): Promise<{ server: SMTPServer; port: number; received: () => number }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    key: await readFile(join(certDir, 'key.pem')),
    cert: await readFile(join(certDir, 'cert.pem')),
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { server, port: (server.server.address() as AddressInfo).port, received: () => received };
}

test('TLS required, next hop without STARTTLS: deferred, never plaintext, counted', async () => {
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: plaintextSink.port, tls: 'required' } },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('a@example.org', ['b@x.test']),
      messageText('a@example.org', 'b@x.test', 'tls required'),
    );
    const deferred = await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
      10_000,
    );
    assert.match(String(deferred['reply']), /^451 4\.7\.5 /);
    assert.deepEqual(await plaintextSink.messages(), []);
    const metrics = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_tls_sessions_total',
    );
    assert.match(metrics, /result="failed",mode="smarthost"\} 1/);
  } finally {
    await harness.close();
  }
});

test('TLS required, certificate that does not verify: deferred, the smarthost receives nothing', async () => {
  const smarthost = await selfSignedSmarthost();
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: smarthost.port, tls: 'required' } },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('a@example.org', ['b@x.test']),
      messageText('a@example.org', 'b@x.test', 'bad cert'),
    );
    const deferred = await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
      10_000,
    );
    assert.match(String(deferred['reply']), /^451 4\.7\.5 /);
    assert.equal(smarthost.received(), 0);
  } finally {
    await harness.close();
    await new Promise<void>((closed) => {
      smarthost.server.close(() => {
        closed();
      });
    });
  }
});

test('tls: none is said once at start (tls-off), not on every message, and still counted', async () => {
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: plaintextSink.port, tls: 'none' } },
  });
  try {
    const queueIds = await Promise.all(
      ['one', 'two'].map((subject) =>
        enqueue(
          harness.spool,
          envelopeFor('a@example.org', ['b@x.test']),
          messageText('a@example.org', 'b@x.test', subject),
        ),
      ),
    );
    for (const queueId of queueIds)
      await harness.waitForLog(
        (line) => line['event'] === 'delivered' && line['queueId'] === queueId,
        10_000,
      );
    const logs = harness.logs();
    assert.equal(logs.filter((line) => line['event'] === 'tls-off').length, 1);
    assert.equal(logs.filter((line) => line['event'] === 'tls-not-used').length, 0);
    const metrics = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_tls_sessions_total',
    );
    assert.match(metrics, /result="plaintext",mode="smarthost"\} [12]\b/);
  } finally {
    await harness.close();
  }
});

test('opportunistic TLS: plaintext only where policy allows, logged and counted', async () => {
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: plaintextSink.port, tls: 'opportunistic' } },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('a@example.org', ['b@x.test']),
      messageText('a@example.org', 'b@x.test', 'opportunistic'),
    );
    await harness.waitForLog((line) => line['event'] === 'delivered' && line['queueId'] === queueId, 10_000);
    const warning = harness
      .logs()
      .find((line) => line['event'] === 'tls-not-used' && line['queueId'] === queueId);
    assert.ok(warning, 'the plaintext session is logged');
    const metrics = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_tls_sessions_total',
    );
    assert.match(metrics, /result="plaintext",mode="smarthost"\} 1/);
  } finally {
    await harness.close();
  }
});
