// The client examples of docs/sending.md, run as written against a relay with a submission
// listener: examples/clients/send-with-nodemailer.mjs (nodemailer, STARTTLS required, AUTH, the
// relay's CA); an argon2id user (hash from Debian's argon2 CLI) and a bcrypt user from htpasswd
// authenticating with swaks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { InProcessRelay } from '../../support/relay-process.ts';
import { startTlsAuthRelay, type TlsAuthRelay } from '../../support/tls-auth-relay.ts';

const run = promisify(execFile);
const example = new URL('../../../examples/clients/send-with-nodemailer.mjs', import.meta.url).pathname;
let relay: InProcessRelay;
let setup: TlsAuthRelay;

function argon2Hash(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('argon2', ['client-example-salt', '-id', '-e'], (error, stdout) => {
      if (error) reject(new Error(`argon2 failed: ${error.message}`));
      else resolve(stdout.trim());
    });
    child.stdin?.end(password);
  });
}

before(async () => {
  // The two ways docs/tls-and-auth.md makes a users line: the argon2 CLI and htpasswd (bcrypt).
  const bcryptLine = (await run('htpasswd', ['-nbBC', '12', 'newsletter', 'news-secret'])).stdout.trim();
  setup = await startTlsAuthRelay({
    users: [`billing-app:${await argon2Hash('app-secret')}`, bcryptLine],
    config: {
      listeners: [{ name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' }],
      policy: {
        senderDomains: [
          { domain: 'example.com', users: ['billing-app', 'newsletter'], allowNetworks: false },
        ],
      },
      limits: { greetingDelayMs: 0 },
    },
  });
  relay = setup.relay;
});

after(() => setup.stop());

test('examples/clients/send-with-nodemailer.mjs sends with STARTTLS and AUTH; the relay queues it', async () => {
  const { stdout } = await run(process.execPath, [example], {
    env: {
      PATH: process.env['PATH'] ?? '',
      SMTP_HOST: '127.0.0.1',
      SMTP_TLS_SERVERNAME: 'relay.test',
      SMTP_PORT: String(relay.port('submission')),
      SMTP_USER: 'billing-app',
      SMTP_PASSWORD: 'app-secret',
      SMTP_CA_FILE: setup.caFile,
      MAIL_FROM: 'invoices@example.com',
      MAIL_TO: 'customer@example.net',
    },
  });
  assert.match(stdout, /^accepted: customer@example\.net; relay said: 250 /);
  assert.equal(relay.spool.size(), 1);
});

test('swaks as docs/sending.md shows it: STARTTLS, AUTH PLAIN as an argon2id user', async () => {
  const { stdout } = await run('swaks', [
    '--server',
    `127.0.0.1:${relay.port('submission')}`,
    '--tls',
    '--auth',
    'PLAIN',
    '--auth-user',
    'billing-app',
    '--auth-password',
    'app-secret',
    '--from',
    'invoices@example.com',
    '--to',
    'customer@example.net',
  ]);
  assert.match(stdout, /<~ {2}235 /);
  assert.match(stdout, /<~ {2}250 2\.6\.0 Ok: queued as /);
  assert.match(stdout, /<- {2}220 relay\.test ESMTP mailfleet\r?\n/);
});

test('a users line from htpasswd -B (bcrypt $2y$) authenticates', async () => {
  const { stdout } = await run('swaks', [
    '--server',
    `127.0.0.1:${relay.port('submission')}`,
    '--tls',
    '--auth',
    'LOGIN',
    '--auth-user',
    'newsletter',
    '--auth-password',
    'news-secret',
    '--from',
    'news@example.com',
    '--to',
    'reader@example.net',
  ]);
  assert.match(stdout, /<~ {2}235 /);
});

test('case 27: passwords and AUTH exchanges never reach the relay log', () => {
  const log = JSON.stringify(relay.logs);
  assert.ok(relay.logs.length > 0);
  for (const secret of [
    'app-secret',
    'news-secret',
    Buffer.from('\0billing-app\0app-secret').toString('base64'),
    Buffer.from('news-secret').toString('base64'),
  ]) {
    assert.equal(log.includes(secret), false, secret);
  }
});
