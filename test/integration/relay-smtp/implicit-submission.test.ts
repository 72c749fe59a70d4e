// Port 465 used for submission (`requireAuth` on an implicit-tls listener, what the operator
// renders for `tls: Implicit` with `auth: Required`): even a client from policy.allowedNetworks
// must authenticate before MAIL; without requireAuth that client relays as on port 25.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

let certificates: TestCertificates;
let relay: InProcessRelay;
let ca: string;

before(async () => {
  certificates = await makeTestCertificates(['relay.test']);
  ca = await readFile(certificates.caFile, 'utf8');
  const usersFile = join(certificates.dir, 'users');
  await writeFile(usersFile, `alice:${bcrypt.hashSync('alice-pass', 4)}\n`);
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [
      { name: 'submissions', port: 0, address: '127.0.0.1', mode: 'implicit-tls', requireAuth: true },
      { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
    ],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    auth: {
      usersFile,
      maxFailuresPerConnection: 3,
      failuresPerClientIp: { perMinute: 10, burst: 10 },
      failuresPerUser: { perMinute: 10, burst: 10 },
    },
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0 },
  });
});

after(async () => {
  await relay.stop();
  await rm(certificates.dir, { recursive: true, force: true });
});

async function session(listener: string): Promise<SmtpTestClient> {
  const client = await SmtpTestClient.connect(relay.port(listener), { tls: { ca } });
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  return client;
}

test('requireAuth on 465: an allowed-network client gets 530 5.7.0 before AUTH, 250 after', async () => {
  const client = await session('submissions');
  try {
    assert.match((await client.command('MAIL FROM:<app@example.com>')).text, /^530 5\.7\.0 /);
    const auth = Buffer.from('\0alice\0alice-pass').toString('base64');
    assert.match((await client.command(`AUTH PLAIN ${auth}`)).text, /^235 /);
    assert.match((await client.command('MAIL FROM:<app@example.com>')).text, /^250 /);
  } finally {
    client.close();
  }
});

test('without requireAuth, the same client relays on an implicit-tls listener without AUTH', async () => {
  const client = await session('smtps');
  try {
    assert.match((await client.command('MAIL FROM:<app@example.com>')).text, /^250 /);
    assert.match((await client.command('RCPT TO:<someone@example.net>')).text, /^250 /);
  } finally {
    client.close();
  }
});
