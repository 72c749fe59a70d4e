// SMTP AUTH with ServiceAccount tokens the real API server minted (TokenRequest, as the kubelet
// does for a projected volume), verified by the relay offline against the keys the API server
// serves (OIDC discovery + JWKS, what the operator renders into the relay config). The clients
// are the examples of docs/sending.md run as written (Python's smtplib, nodemailer) and a
// byte-exact client for what comes before TLS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import {
  createServiceAccount,
  deleteServiceAccount,
  issuerKeys,
  requestToken,
  reviewToken,
  type IssuerKeys,
} from '../../support/service-account-tokens.ts';
import { sendWithSmtplib } from '../../support/smtplib-client.ts';
import { startTlsAuthRelay, type TlsAuthRelay } from '../../support/tls-auth-relay.ts';
import { SmtpTestClient } from './smtp-client.ts';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

const run = promisify(execFile);
const examples = new URL('../../../examples/clients/', import.meta.url).pathname;
const audience = 'mailfleet.dev/smtp';
const cluster = sharedControlPlane();
let keys: IssuerKeys;
let setup: TlsAuthRelay;
let tokenDir: string;
/** Added to the relay's clock: a token expires without waiting for it. */
let clockOffsetMs = 0;

before(async () => {
  await createServiceAccount(cluster, 'team-a', 'mailer');
  await createServiceAccount(cluster, 'team-b', 'mailer');
  await createServiceAccount(cluster, 'team-a', 'leaving');
  keys = await issuerKeys(cluster);
  tokenDir = await mkdtemp(join(tmpdir(), 'mailfleet-tokens-'));
  setup = await startTlsAuthRelay({
    users: [],
    clock: () => Date.now() + clockOffsetMs,
    config: {
      listeners: [
        { name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' },
        { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
      ],
      tokenAuth: { issuer: keys.issuer, audiences: [audience], keys: keys.keys },
      policy: {
        senderDomains: [
          { domain: 'a.example', serviceAccounts: [{ namespace: 'team-a' }], allowNetworks: false },
          { domain: 'b.example', serviceAccounts: [{ namespace: 'team-b' }], allowNetworks: false },
        ],
      },
      limits: { greetingDelayMs: 0 },
    },
    // Refusals are the subject here: the failure buckets must not end the test early.
    auth: { maxFailuresPerConnection: 3, failuresPerClientIp: { perMinute: 600, burst: 600 } },
  });
});

after(async () => {
  await setup.stop();
  await rm(tokenDir, { recursive: true, force: true });
});

/** examples/clients/send-with-smtplib.py, as written, with this token. */
function smtplib(token: string, from: string, mechanism: 'OAUTHBEARER' | 'XOAUTH2' = 'OAUTHBEARER') {
  return sendWithSmtplib({
    port: setup.relay.port('submission'),
    caFile: setup.caFile,
    token,
    tokenDir,
    from,
    mechanism,
  });
}

async function tokenFailures(reason: string): Promise<number> {
  const metric = await setup.relay.registry.getSingleMetricAsString(
    'mailfleet_relay_auth_token_failures_total',
  );
  const line = metric.split('\n').find((text) => text.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

test('AUTH is offered only after STARTTLS; OAUTHBEARER in plaintext is refused with 538 5.7.11', async () => {
  const client = await SmtpTestClient.connect(setup.relay.port('smtp'));
  try {
    await client.reply();
    const plain = await client.command('EHLO client.test');
    assert.doesNotMatch(plain.text, /AUTH/);
    const token = await requestToken(cluster, 'team-a', 'mailer', { audiences: [audience] });
    const refused = await client.command(
      `AUTH OAUTHBEARER ${Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`).toString('base64')}`,
    );
    assert.equal(refused.code, 538);
    assert.match(refused.text, /^538 5\.7\.11 /);
    assert.equal((await client.command('STARTTLS')).code, 220);
    await client.startTls(setup.ca);
    const secure = await client.command('EHLO client.test');
    assert.match(secure.text, /250-AUTH( [A-Z]+)* OAUTHBEARER XOAUTH2\n/);
    const accepted = await client.command(
      `AUTH OAUTHBEARER ${Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`).toString('base64')}`,
    );
    assert.equal(accepted.code, 235);
  } finally {
    client.close();
  }
});

test('a token for the relay audience sends with smtplib (OAUTHBEARER), as the ServiceAccount', async () => {
  const token = await requestToken(cluster, 'team-a', 'mailer', { audiences: [audience] });
  const sent = await smtplib(token, 'app@a.example');
  assert.ok(sent.ok, sent.output);
  assert.match(sent.output, /sent with OAUTHBEARER; relay said: 250 2\.6\.0 Ok: queued as /);
  const received = setup.relay.logs.findLast((line) => line.event === 'received');
  assert.equal(received?.['user'], 'system:serviceaccount:team-a:mailer');
});

test('the same token sends with smtplib as XOAUTH2', async () => {
  const token = await requestToken(cluster, 'team-a', 'mailer', { audiences: [audience] });
  const sent = await smtplib(token, 'app@a.example', 'XOAUTH2');
  assert.ok(sent.ok, sent.output);
  assert.match(sent.output, /sent with XOAUTH2; relay said: 250 /);
});

test('examples/clients/send-with-nodemailer-token.mjs sends with the token file (XOAUTH2)', async () => {
  const token = await requestToken(cluster, 'team-a', 'mailer', { audiences: [audience] });
  const tokenFile = join(tokenDir, 'nodemailer-token');
  await writeFile(tokenFile, token);
  const { stdout } = await run(process.execPath, [join(examples, 'send-with-nodemailer-token.mjs')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      SMTP_HOST: '127.0.0.1',
      SMTP_TLS_SERVERNAME: 'relay.test',
      SMTP_PORT: String(setup.relay.port('submission')),
      TOKEN_FILE: tokenFile,
      SMTP_CA_FILE: setup.caFile,
      MAIL_FROM: 'app@a.example',
      MAIL_TO: 'someone@example.net',
    },
  });
  assert.match(stdout, /relay said: 250 2\.6\.0 Ok: queued as /);
});

test('examples/clients/msmtprc sends with auth oauthbearer and passwordeval reading the token file', async () => {
  const token = await requestToken(cluster, 'team-a', 'mailer', { audiences: [audience] });
  const tokenFile = join(tokenDir, 'msmtp-token');
  await writeFile(tokenFile, token);
  // The example as written, with what differs outside a pod put in (msmtp takes no --host with
  // an account): where the relay, its CA and the token file are.
  const written = await readFile(join(examples, 'msmtprc'), 'utf8');
  const replaced = written
    .replace(/^host .*$/m, 'host 127.0.0.1')
    .replace(/^port .*$/m, `port ${setup.relay.port('submission')}`)
    .replace(/^tls_trust_file .*$/m, `tls_trust_file ${setup.caFile}`)
    .replace(/^passwordeval cat .*$/m, `passwordeval cat ${tokenFile}`);
  assert.equal(replaced.split('\n').length, written.split('\n').length);
  const config = join(tokenDir, 'msmtprc');
  await writeFile(config, replaced, { mode: 0o600 });
  const msmtp = execFile('msmtp', ['-C', config, '-a', 'mailfleet', 'someone@example.net'], {
    env: { PATH: process.env['PATH'] ?? '' },
  });
  let log = '';
  msmtp.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  msmtp.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  msmtp.stdin?.end('Subject: hello from msmtp\r\n\r\nSent with a ServiceAccount token.\r\n');
  const code = await new Promise<number | null>((resolve) => msmtp.on('exit', resolve));
  assert.equal(code, 0, log);
  assert.match(log, /smtpstatus=250 smtpmsg='250 2\.6\.0 Ok: queued as /);
  const authenticated = setup.relay.logs.findLast((line) => line.event === 'authenticated');
  assert.deepEqual(
    [authenticated?.['user'], authenticated?.['method']],
    ['system:serviceaccount:team-a:mailer', 'OAUTHBEARER'],
  );
});

test('a token for the API server audience is refused: 535 5.7.8 (OAUTHBEARER and XOAUTH2), reason audience', async () => {
  const before = await tokenFailures('audience');
  const token = await requestToken(cluster, 'team-a', 'mailer');
  const sent = await smtplib(token, 'app@a.example');
  assert.equal(sent.ok, false);
  assert.match(sent.output, /refused: 535 5\.7\.8 Authentication credentials invalid/);
  const xoauth2 = await smtplib(token, 'app@a.example', 'XOAUTH2');
  assert.match(xoauth2.output, /refused: 535 5\.7\.8 Authentication credentials invalid/);
  assert.equal(await tokenFailures('audience'), before + 2);
});

test('an expired token is refused (reason expired); it passed a moment earlier', async () => {
  const token = await requestToken(cluster, 'team-a', 'mailer', {
    audiences: [audience],
    expirationSeconds: 600,
  });
  assert.ok((await smtplib(token, 'app@a.example')).ok);
  const before = await tokenFailures('expired');
  clockOffsetMs = 600_000 + 31_000; // past exp and the 30 s skew
  try {
    const sent = await smtplib(token, 'app@a.example');
    assert.match(sent.output, /refused: 535 5\.7\.8 /);
  } finally {
    clockOffsetMs = 0;
  }
  assert.equal(await tokenFailures('expired'), before + 1);
});

/** A token with the claims the API server writes, signed by a key of our own under this key id. */
async function forgedToken(namespace: string, kid: (publicKey: KeyLike) => Promise<string>): Promise<string> {
  const other = await generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: keys.issuer,
    aud: [audience],
    sub: `system:serviceaccount:${namespace}:mailer`,
    iat: now,
    nbf: now,
    exp: now + 600,
    'kubernetes.io': { namespace, serviceaccount: { name: 'mailer', uid: 'x' } },
  })
    .setProtectedHeader({ alg: 'RS256', kid: await kid(other.publicKey) })
    .sign(other.privateKey);
}

test("another cluster's token, same issuer name, is refused by its key (reason unknown_key)", async () => {
  // Clusters often share the default issuer name: the keys, not the name, tell them apart.
  const forged = await forgedToken(
    'team-a',
    async (publicKey) => (await exportJWK(publicKey)).n?.slice(0, 16) ?? 'other',
  );
  const before = await tokenFailures('unknown_key');
  const sent = await smtplib(forged, 'app@a.example');
  assert.match(sent.output, /refused: 535 5\.7\.8 /);
  assert.equal(await tokenFailures('unknown_key'), before + 1);
});

test('the same forgery under the real key id fails its signature (reason signature)', async () => {
  const forged = await forgedToken('team-b', () => Promise.resolve(keys.keys[0]?.['kid'] ?? ''));
  const before = await tokenFailures('signature');
  assert.match((await smtplib(forged, 'app@b.example')).output, /refused: 535 5\.7\.8 /);
  assert.equal(await tokenFailures('signature'), before + 1);
});

test('a token of namespace team-b cannot send as the SenderDomain of team-a: 553 5.7.1', async () => {
  const token = await requestToken(cluster, 'team-b', 'mailer', { audiences: [audience] });
  const refused = await smtplib(token, 'app@a.example');
  assert.equal(refused.ok, false);
  assert.match(
    refused.output,
    /refused: 553 5\.7\.1 ServiceAccount not authorised to send for this sender domain/,
  );
  const own = await smtplib(token, 'app@b.example');
  assert.ok(own.ok, own.output);
});

async function messagesByNamespace(): Promise<Record<string, number>> {
  const counted = await setup.relay.registry.getSingleMetricAsString(
    'mailfleet_relay_service_account_messages_total',
  );
  return Object.fromEntries(
    counted
      .split('\n')
      .filter((line) => line.startsWith('mailfleet_relay_service_account_messages_total{'))
      .map((line): [string, number] => [
        /namespace="([^"]*)"/.exec(line)?.[1] ?? '',
        Number(line.split(' ').at(-1)),
      ]),
  );
}

test('accepted messages are counted by the ServiceAccount namespace, a bounded label', async () => {
  const before = await messagesByNamespace();
  for (const [namespace, from] of [
    ['team-a', 'app@a.example'],
    ['team-b', 'app@b.example'],
    ['team-b', 'app@b.example'],
  ] as const) {
    const sent = await smtplib(
      await requestToken(cluster, namespace, 'mailer', { audiences: [audience] }),
      from,
    );
    assert.ok(sent.ok, sent.output);
  }
  const after = await messagesByNamespace();
  assert.deepEqual(
    [(after['team-a'] ?? 0) - (before['team-a'] ?? 0), (after['team-b'] ?? 0) - (before['team-b'] ?? 0)],
    [1, 2],
  );
  assert.deepEqual(
    Object.keys(after).filter((namespace) => !['team-a', 'team-b'].includes(namespace)),
    [],
  );
});

test('a deleted ServiceAccount: the API server refuses its token, the relay accepts it until it expires', async () => {
  const token = await requestToken(cluster, 'team-a', 'leaving', { audiences: [audience] });
  await deleteServiceAccount(cluster, 'team-a', 'leaving');
  const review = await reviewToken(cluster, token, [audience]);
  assert.equal(review.authenticated, false);
  // Offline verification cannot see the deletion (docs/tls-and-auth.md): maxTokenLifetimeSeconds bounds it.
  const sent = await smtplib(token, 'app@a.example');
  assert.ok(sent.ok, sent.output);
});

test('a namespace over its share (rateLimits.perNamespace) gets 450 4.7.1, whichever of its accounts sends; other tenants go on', async () => {
  await createServiceAccount(cluster, 'team-a', 'billing');
  const shared = await startTlsAuthRelay({
    users: [],
    config: {
      listeners: [{ name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' }],
      tokenAuth: { issuer: keys.issuer, audiences: [audience], keys: keys.keys },
      policy: {
        senderDomains: [
          { domain: 'a.example', serviceAccounts: [{ namespace: 'team-a' }], allowNetworks: false },
          { domain: 'b.example', serviceAccounts: [{ namespace: 'team-b' }], allowNetworks: false },
        ],
        rateLimits: { perNamespace: { perMinute: 1, burst: 2 } },
      },
      limits: { greetingDelayMs: 0 },
    },
  });
  try {
    const send = async (namespace: string, name: string, from: string) =>
      sendWithSmtplib({
        port: shared.relay.port('submission'),
        caFile: shared.caFile,
        token: await requestToken(cluster, namespace, name, { audiences: [audience] }),
        tokenDir,
        from,
      });
    assert.ok((await send('team-a', 'mailer', 'app@a.example')).ok);
    assert.ok((await send('team-a', 'mailer', 'app@a.example')).ok);
    const third = await send('team-a', 'billing', 'billing@a.example');
    assert.match(third.output, /refused: 450 4\.7\.1 Rate limit reached for this namespace, try again later/);
    const otherTenant = await send('team-b', 'mailer', 'app@b.example');
    assert.ok(otherTenant.ok, otherTenant.output);
  } finally {
    await shared.stop();
  }
});
