// Port 465 used for submission (`requireAuth` on an implicit-tls listener, what the operator
// renders for `tls: Implicit` with `auth: Required`): even a client from policy.allowedNetworks
// must authenticate before MAIL; without requireAuth that client relays as on port 25.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import type { InProcessRelay } from '../../support/relay-process.ts';
import { startTlsAuthRelay, type TlsAuthRelay } from '../../support/tls-auth-relay.ts';
import { SmtpTestClient } from './smtp-client.ts';

let relay: InProcessRelay;
let ca: string;
let setup: TlsAuthRelay;

before(async () => {
  setup = await startTlsAuthRelay({
    users: [`alice:${bcrypt.hashSync('alice-pass', 4)}`],
    config: {
      listeners: [
        { name: 'submissions', port: 0, address: '127.0.0.1', mode: 'implicit-tls', requireAuth: true },
        { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
      ],
      policy: { allowedNetworks: ['127.0.0.0/8'] },
      limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0 },
    },
  });
  ({ relay, ca } = setup);
});

after(() => setup.stop());

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
