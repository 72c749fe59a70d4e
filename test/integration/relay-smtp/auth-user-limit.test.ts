// Cases 4 and 29, per user name: failed logins for one user are limited across connections per
// client address (454 4.7.0 from that address, even with the right password then), never for the
// user as a whole: the same user from another address, and another user from the same address,
// still log in. The whole attack with its growing delays: auth-lockout.test.ts.
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
    users: [`alice:${bcrypt.hashSync('alice-pass', 4)}`, `bob:${bcrypt.hashSync('bob-pass', 4)}`],
    auth: { failuresPerClientIp: { perMinute: 1, burst: 100 }, failuresPerUser: { perMinute: 1, burst: 3 } },
    config: {
      listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
      limits: { greetingDelayMs: 0 },
    },
  });
  ({ relay, ca } = setup);
});

after(() => setup.stop());

async function login(source: string, user: string, password: string): Promise<string> {
  const client = await SmtpTestClient.connect(relay.port('smtps'), { tls: { ca }, localAddress: source });
  try {
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    return (await client.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`))
      .text;
  } finally {
    client.close();
  }
}

test('case 29: failures for one user are limited per client address with 454 4.7.0; the user elsewhere is not', async () => {
  const replies: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) replies.push(await login('127.0.0.2', 'bob', 'guess'));
  assert.match(replies[0] ?? '', /^535 5\.7\.8 /);
  assert.ok(
    replies.some((reply) => reply.startsWith('454 4.7.0 ')),
    `bob's failure bucket at 127.0.0.2 (burst 3) runs out: ${replies.join(' | ')}`,
  );
  assert.match(await login('127.0.0.2', 'bob', 'bob-pass'), /^454 4\.7\.0 /, 'even the right password waits');
  assert.match(await login('127.0.0.3', 'bob', 'bob-pass'), /^235 /, 'bob from another address logs in');
  assert.match(
    await login('127.0.0.2', 'alice', 'alice-pass'),
    /^235 /,
    'another user from the same address is not limited',
  );
});
