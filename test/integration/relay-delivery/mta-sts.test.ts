// Case 22: a domain with an MTA-STS policy in enforce mode, whose MX presents a certificate that
// does not verify: the message is deferred (4xx), never sent in plaintext. The policy host is a
// real HTTPS server on 127.0.0.6:443 with a certificate from a test CA this process trusts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { startDnsmasq, type Dnsmasq } from '../../support/dnsmasq.ts';
import { enqueue, envelopeFor, messageText, startHarness } from './harness.ts';

let dir: string;
let dns: Dnsmasq;
let policyServer: Server;
let mx: SMTPServer;
let mxPort: number;
let received = 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailfleet-sts-'));
  const file = (name: string) => join(dir, name);
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=mailfleet test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=mta-sts.sts.test',
    '-keyout',
    file('policy.key'),
    '-out',
    file('policy.csr'),
  );
  await writeFile(file('san.ext'), 'subjectAltName=DNS:mta-sts.sts.test\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('policy.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
    '-out',
    file('policy.pem'),
  );
  // The MX's certificate is self-signed: it does not verify, which enforce mode must not accept.
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=mx.sts.test',
    '-keyout',
    file('mx.key'),
    '-out',
    file('mx.pem'),
  );
  setDefaultCACertificates([...getCACertificates('default'), await readFile(file('ca.pem'), 'utf8')]);

  policyServer = createServer(
    { key: await readFile(file('policy.key')), cert: await readFile(file('policy.pem')) },
    (request, response) => {
      response.writeHead(request.url === '/.well-known/mta-sts.txt' ? 200 : 404, {
        'content-type': 'text/plain',
      });
      response.end('version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n');
    },
  );
  await new Promise<void>((listening) => policyServer.listen(443, '127.0.0.6', listening));

  mx = new SMTPServer({
    authOptional: true,
    logger: false,
    key: await readFile(file('mx.key')),
    cert: await readFile(file('mx.pem')),
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((listening) => mx.listen(0, '127.0.0.7', listening));
  mxPort = (mx.server.address() as AddressInfo).port;

  dns = await startDnsmasq({
    mx: [{ domain: 'sts.test', exchange: 'mx.sts.test', preference: 10 }],
    a: [
      { name: 'mx.sts.test', address: '127.0.0.7' },
      { name: 'mta-sts.sts.test', address: '127.0.0.6' },
    ],
    txt: [{ name: '_mta-sts.sts.test', text: 'v=STSv1; id=20261122' }],
  });
});

after(async () => {
  await dns.stop();
  await new Promise<void>((closed) => {
    mx.close(() => {
      closed();
    });
  });
  await new Promise<void>((closed) => {
    policyServer.close(() => {
      closed();
    });
  });
  await rm(dir, { recursive: true, force: true });
});

test('MTA-STS enforce with an invalid MX certificate defers and sends nothing', async () => {
  const harness = await startHarness({
    delivery: { mode: 'mx', dnsServers: [dns.server], mxPort, mtaSts: true, allowPrivateDestinations: true },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('', ['bob@sts.test']),
      messageText('alice@example.org', 'bob@sts.test', 'sts enforce'),
    );
    const deferred = await harness.waitForLog(
      (line) => line['event'] === 'deferred' && line['queueId'] === queueId,
      15_000,
    );
    assert.match(String(deferred['reply']), /^451 4\.7\.5 /);
    assert.equal(received, 0);
    const metrics = await harness.registry.getSingleMetricAsString(
      'mailfleet_relay_delivery_tls_sessions_total',
    );
    assert.match(metrics, /result="failed",mode="mx"\} 1/);
  } finally {
    await harness.close();
  }
});

test('the same MX without an MTA-STS policy gets the message over opportunistic TLS', async () => {
  const harness = await startHarness({
    delivery: { mode: 'mx', dnsServers: [dns.server], mxPort, mtaSts: false, allowPrivateDestinations: true },
  });
  try {
    const queueId = await enqueue(
      harness.spool,
      envelopeFor('', ['bob@sts.test']),
      messageText('alice@example.org', 'bob@sts.test', 'no sts'),
    );
    await harness.waitForLog((line) => line['event'] === 'delivered' && line['queueId'] === queueId, 15_000);
    assert.equal(received, 1);
  } finally {
    await harness.close();
  }
});
