// Case 4, per user name: failed logins for one user are limited across connections (454 4.7.0,
// even with the right password then), while another user from the same address still logs in.
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
  await writeFile(
    usersFile,
    `alice:${bcrypt.hashSync('alice-pass', 4)}\nbob:${bcrypt.hashSync('bob-pass', 4)}\n`,
  );
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    auth: {
      usersFile,
      maxFailuresPerConnection: 3,
      failuresPerClientIp: { perMinute: 1, burst: 100 },
      failuresPerUser: { perMinute: 1, burst: 3 },
    },
    limits: { greetingDelayMs: 0 },
  });
});

after(async () => {
  await relay.stop();
  await rm(certificates.dir, { recursive: true, force: true });
});

async function login(user: string, password: string): Promise<string> {
  const client = await SmtpTestClient.connect(relay.port('smtps'), { tls: { ca } });
  try {
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    return (await client.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`))
      .text;
  } finally {
    client.close();
  }
}

test('case 4: failures per user name are limited across connections with 454 4.7.0', async () => {
  const replies: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) replies.push(await login('bob', 'guess'));
  assert.match(replies[0] ?? '', /^535 5\.7\.8 /);
  assert.ok(
    replies.some((reply) => reply.startsWith('454 4.7.0 ')),
    `bob's failure bucket (burst 3) runs out: ${replies.join(' | ')}`,
  );
  assert.match(await login('bob', 'bob-pass'), /^454 4\.7\.0 /, 'even the right password waits');
  assert.match(
    await login('alice', 'alice-pass'),
    /^235 /,
    'another user from the same address is not limited',
  );
});
