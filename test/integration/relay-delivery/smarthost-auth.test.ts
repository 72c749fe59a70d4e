// Case 28: smarthost credentials travel only inside TLS. A next hop that offers no STARTTLS (Postfix's
// smtp-sink) or whose STARTTLS is stripped on the way (a proxy rewriting the EHLO reply) never sees an
// AUTH command: the message stays queued, deferred with a precise reply, counted every time and
// logged once. The proxy records every line the relay sent, so "no AUTH" is what reached the wire.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import type { SmarthostTls } from '../../../relay/config/delivery-schema.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { startSmtpProxy, type SmtpProxy } from '../../support/starttls-stripping-proxy.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { enqueue, enqueueSimple, envelopeFor, messageText, startHarness } from './harness.ts';

const credentials = { user: 'relay-user', pass: 'never-in-plaintext' };

let certificates: TestCertificates;
let sink: SmtpSink;
let startTlsServer: SMTPServer;
const logins: { user: string | undefined; secure: boolean }[] = [];
const delivered: string[] = [];

before(async () => {
  certificates = await makeTestCertificates(['smarthost.test']);
  sink = await startSmtpSink();
  startTlsServer = new SMTPServer({
    key: await readFile(certificates.keyFile),
    cert: await readFile(certificates.certFile),
    logger: false,
    onAuth(auth, session, callback) {
      logins.push({ user: auth.username, secure: session.secure });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        delivered.push(`${String(session.user)} secure=${String(session.secure)}`);
        callback();
      });
    },
  });
  startTlsServer.on('error', () => undefined);
  await new Promise<void>((listening) => startTlsServer.listen(0, '127.0.0.1', listening));
});

after(async () => {
  await sink.stop();
  await new Promise<void>((closed) => {
    startTlsServer.close(() => {
      closed();
    });
  });
  await rm(certificates.dir, { recursive: true, force: true });
});

function startTlsPort(): number {
  return (startTlsServer.server.address() as AddressInfo).port;
}

const refusals: readonly { name: string; peer: 'smtp-sink' | 'stripped'; tls: SmarthostTls }[] = [
  {
    name: 'a next hop without STARTTLS (smtp-sink), tls opportunistic',
    peer: 'smtp-sink',
    tls: 'opportunistic',
  },
  { name: 'STARTTLS stripped on the way, tls opportunistic', peer: 'stripped', tls: 'opportunistic' },
  { name: 'STARTTLS stripped on the way, tls required', peer: 'stripped', tls: 'required' },
];

for (const { name, peer, tls } of refusals) {
  test(`case 28: ${name}: no AUTH reaches the peer, the mail stays deferred`, async () => {
    const proxy: SmtpProxy = await startSmtpProxy(
      peer === 'smtp-sink'
        ? { host: sink.host, port: sink.port, strip: false }
        : { host: '127.0.0.1', port: startTlsPort(), strip: true },
    );
    const harness = await startHarness({
      delivery: { smarthost: { host: '127.0.0.1', port: proxy.port, tls, verifyCertificate: false } },
      smarthostAuth: credentials,
    });
    try {
      const queueIds = await enqueueSimple(harness.spool, [
        ['a@example.org', 'b@x.test', 'one'],
        ['a@example.org', 'c@x.test', 'two'],
      ]);
      for (const queueId of queueIds) {
        const deferred = await harness.waitForLog(
          (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
          10_000,
        );
        const expected =
          tls === 'required' ? /^451 4\.7\.5 TLS failed/ : /^451 4\.7\.0 credentials withheld: /;
        assert.match(String(deferred['reply']), expected);
      }
      const sent = proxy.clientLines();
      assert.ok(
        sent.some((line) => /^EHLO /i.test(line)),
        `the relay spoke to the peer: ${JSON.stringify(sent)}`,
      );
      assert.deepEqual(
        sent.filter(
          (line) => /^AUTH\b/i.test(line) || line.includes(Buffer.from(credentials.pass).toString('base64')),
        ),
        [],
      );
      assert.ok(!sent.some((line) => /^MAIL /i.test(line)), 'no transaction without TLS and AUTH');
      assert.equal(harness.spool.size(), 2, 'both messages stay queued');
      assert.deepEqual(await sink.messages(), []);
      if (tls === 'opportunistic') {
        const withheld = await harness.registry.getSingleMetricAsString(
          'mailfleet_relay_delivery_auth_withheld_total',
        );
        const count = Number(/mode="smarthost"\} (\d+)/.exec(withheld)?.[1]);
        assert.ok(count >= 2, `every withheld AUTH is counted: ${withheld}`);
        const logged = harness.logs().filter((line) => line['event'] === 'auth-withheld');
        assert.equal(logged.length, 1, 'logged once');
        assert.equal(logged[0]?.['level'], 50);
      }
    } finally {
      await harness.close();
      await proxy.close();
    }
  });
}

test('case 28 control: the same next hop, not stripped, gets AUTH inside TLS and the message', async () => {
  const proxy = await startSmtpProxy({ host: '127.0.0.1', port: startTlsPort(), strip: false });
  const harness = await startHarness({
    delivery: { smarthost: { host: '127.0.0.1', port: proxy.port, tls: 'opportunistic' } },
    smarthostAuth: credentials,
  });
  try {
    await enqueue(
      harness.spool,
      envelopeFor('a@example.org', ['b@x.test']),
      messageText('a@example.org', 'b@x.test', 'tls'),
    );
    await harness.waitForEmptyQueue(10_000);
    assert.deepEqual(logins, [{ user: credentials.user, secure: true }]);
    assert.deepEqual(delivered, [`${credentials.user} secure=true`]);
    assert.ok(proxy.clientLines().some((line) => /^STARTTLS$/i.test(line)));
    assert.ok(
      !proxy.clientLines().some((line) => /^AUTH\b/i.test(line)),
      'AUTH went inside TLS, unreadable here',
    );
  } finally {
    await harness.close();
    await proxy.close();
  }
});

test('case 28: mailfleet-relay --check refuses credentials with tls opportunistic, naming the path', async () => {
  const credentialsFile = join(certificates.dir, 'smarthost-credentials');
  await writeFile(credentialsFile, `${credentials.user}:${credentials.pass}\n`, { mode: 0o600 });
  const configFile = join(certificates.dir, 'relay.yaml');
  await writeFile(
    configFile,
    [
      'hostname: relay.example.com',
      'listeners: [{name: smtp, port: 2525, mode: relay}]',
      'delivery:',
      '  mode: smarthost',
      `  smarthost: {host: smtp.example.net, port: 587, tls: opportunistic, credentialsFile: ${credentialsFile}}`,
      '',
    ].join('\n'),
  );
  const mainScript = new URL('../../../relay/main.ts', import.meta.url).pathname;
  const checked = await promisify(execFile)(process.execPath, [
    mainScript,
    '--config',
    configFile,
    '--check',
  ]).then(
    () => ({ code: 0, stderr: '' }),
    (error: unknown) => error as { code: number; stderr: string },
  );
  assert.equal(checked.code, 1);
  assert.match(
    checked.stderr,
    /\/delivery\/smarthost\/credentialsFile: credentials are only sent inside TLS, but \/delivery\/smarthost\/tls "opportunistic" can end in plaintext/,
  );
  assert.ok(!checked.stderr.includes(credentials.pass), 'the password is never echoed');
});
