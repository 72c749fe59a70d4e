// The refusals the connection itself gives (538 AUTH before TLS, smtp-server's 530 to MAIL before a
// required AUTH, 421 at the session deadline) are counted in mailfleet_relay_rejections_total under
// their catalogue reason, like the refusals of the session hooks.
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { replyLine, replies } from '../../../relay/smtp/replies.ts';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

let certificates: TestCertificates;
let relay: InProcessRelay;

before(async () => {
  certificates = await makeTestCertificates(['relay.test']);
  const usersFile = join(certificates.dir, 'users');
  await writeFile(usersFile, `alice:${bcrypt.hashSync('alice-pass', 4)}\n`);
  relay = await startRelayInProcess({
    hostname: 'relay.test',
    listeners: [{ name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' }],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    auth: { usersFile },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, sessionTimeoutSeconds: 1 },
  });
});

after(async () => {
  await relay.stop();
  await rm(certificates.dir, { recursive: true, force: true });
});

async function rejections(reason: string): Promise<number> {
  const text = await relay.registry.metrics();
  const line = new RegExp(
    `^mailfleet_relay_rejections_total\\{listener="submission",reason="${reason}"\\} (\\d+)$`,
    'm',
  );
  return Number(line.exec(text)?.[1] ?? 0);
}

test('AUTH before TLS (538) and MAIL before a required AUTH (530) are counted', async () => {
  const client = await SmtpTestClient.connect(relay.port('submission'));
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  assert.equal((await client.command('AUTH LOGIN')).text, `538 ${replyLine(replies.authEncryptionRequired)}`);
  assert.equal(
    (await client.command('MAIL FROM:<alice@shop.example>')).text,
    `530 ${replyLine(replies.authRequired)}`,
  );
  client.close();
  assert.equal(await rejections('auth_plaintext'), 1);
  assert.equal(await rejections('auth_required'), 1);
});

test('the session deadline (421 4.4.2) is counted', async () => {
  const client = await SmtpTestClient.connect(relay.port('submission'));
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.reply()).text, `421 ${replyLine(replies.sessionTimeout)}`);
  client.close();
  assert.equal(await rejections('session_timeout'), 1);
});
