// Issue 13 item 6: a smarthost that refuses our credentials (535 inside TLS, a rotated password) is
// an operator problem, not the sender's. As with Postfix's smtp_sasl_auth_soft_bounce = yes, the mail
// stays queued as deferred, no bounce goes out, every refusal is counted, and the queue is delivered
// as soon as the peer accepts the credentials again. The peer is smtp-server with STARTTLS.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { enqueueSimple, startHarness } from './harness.ts';

const credentials = { user: 'relay-user', pass: 'rotated-yesterday' };

let certificates: TestCertificates;
let server: SMTPServer;
let acceptCredentials = false;
const logins: { user: string | undefined; secure: boolean; accepted: boolean }[] = [];
const delivered: string[] = [];

before(async () => {
  certificates = await makeTestCertificates(['smarthost.test']);
  server = new SMTPServer({
    key: await readFile(certificates.keyFile),
    cert: await readFile(certificates.certFile),
    logger: false,
    onAuth(auth, session, callback) {
      logins.push({ user: auth.username, secure: session.secure, accepted: acceptCredentials });
      if (acceptCredentials) {
        callback(null, { user: auth.username });
        return;
      }
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        delivered.push(/^Subject: (.*)$/m.exec(Buffer.concat(chunks).toString('utf8'))?.[1]?.trim() ?? '');
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
});

after(async () => {
  await new Promise<void>((closed) => {
    server.close(() => {
      closed();
    });
  });
  await rm(certificates.dir, { recursive: true, force: true });
});

test('a 535 to AUTH defers (no bounce), is counted and logged, and the mail goes once the login works', async () => {
  const port = (server.server.address() as AddressInfo).port;
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port, tls: 'required', verifyCertificate: false } },
    smarthostAuth: credentials,
  });
  try {
    const queueIds = await enqueueSimple(harness.spool, [
      ['a@example.org', 'b@x.test', 'one'],
      ['c@example.org', 'd@y.test', 'two'],
    ]);
    for (const queueId of queueIds) {
      const deferred = await harness.waitForLog(
        (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
        10_000,
      );
      assert.match(
        String(deferred['reply']),
        /^451 4\.7\.0 the next hop refused the relay's credentials \(535 5\.7\.8 Authentication credentials invalid\)$/,
      );
    }
    // Retried at least once more (retryInitialSeconds 1), still refused, still queued.
    await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueIds[0] && line['attempts'] === 2,
      10_000,
    );
    assert.equal(harness.spool.size(), 2, 'both messages stay queued, and no bounce was queued');
    assert.deepEqual(
      harness.logs().filter((line) => line['event'] === 'bounced'),
      [],
    );
    const bounces = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_bounces_generated_total',
    );
    assert.match(bounces, /^mailfleet_relay_delivery_bounces_generated_total 0$/m);
    const refused = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_auth_failures_total',
    );
    const count = Number(/mode="smarthost"\} (\d+)/.exec(refused)?.[1]);
    assert.ok(count >= 3, `every refused login is counted: ${refused}`);
    assert.equal(count, logins.filter((login) => !login.accepted).length, 'one count per refused AUTH');
    assert.ok(logins.every((login) => login.secure && login.user === credentials.user));
    const logged = harness.logs().filter((line) => line['event'] === 'auth-refused');
    assert.equal(logged.length, 1, 'logged once');
    assert.equal(logged[0]?.['level'], 50);
    assert.deepEqual(delivered, []);

    acceptCredentials = true;
    await harness.waitForEmptyQueue(15_000);
    assert.deepEqual(delivered.sort(), ['one', 'two']);
    assert.deepEqual(
      harness.logs().filter((line) => line['event'] === 'bounced'),
      [],
    );
  } finally {
    await harness.close();
  }
});
