// TLS and AUTH against real peers: swaks (STARTTLS, implicit TLS, AUTH PLAIN/LOGIN, PIPELINING),
// openssl s_client (STARTTLS injection) and raw sockets. Cases 2, 3, 4 and 11.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { startRelayInProcess, type InProcessRelay } from '../../support/relay-process.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

const run = promisify(execFile);
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
    listeners: [
      { name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' },
      { name: 'submission', port: 0, address: '127.0.0.1', mode: 'submission' },
      { name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' },
      { name: 'starttls-only', port: 0, address: '127.0.0.1', mode: 'relay', requireTls: true },
      { name: 'bare', port: 0, address: '127.0.0.1', mode: 'relay', offerAuth: false, offerStartTls: false },
    ],
    tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
    auth: {
      usersFile,
      maxFailuresPerConnection: 3,
      failuresPerClientIp: { perMinute: 1, burst: 6 },
      failuresPerUser: { perMinute: 1, burst: 100 },
    },
    policy: { senderDomains: [{ domain: 'shop.example', users: ['alice'], allowNetworks: false }] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, maxConnectionsPerIp: 40 },
  });
});

after(async () => {
  await relay.stop();
  await rm(certificates.dir, { recursive: true, force: true });
});

// swaks does TLS through Net::SSLeay (Debian: libnet-ssleay-perl, libio-socket-ssl-perl, which
// hack/system-deps.sh installs): without them these tests fail rather than skip.
test('swaks can speak TLS (its Perl TLS modules are installed)', async () => {
  await run('perl', ['-MNet::SSLeay', '-MIO::Socket::SSL', '-e', '1']);
});

/** swaks arguments for alice (AUTH with her password) sending from her domain to someone. */
function asAlice(method: 'PLAIN' | 'LOGIN'): string[] {
  return [
    '--auth',
    method,
    '--auth-user',
    'alice',
    '--auth-password',
    'alice-pass',
    '--from',
    'alice@shop.example',
    '--to',
    'someone@example.com',
  ];
}

async function swaks(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      'swaks',
      ['--server', '127.0.0.1', '--helo', 'client.test', '--tls-ca-path', certificates.caFile, ...args],
      {
        timeout: 30_000,
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

test('swaks: submission with STARTTLS, AUTH PLAIN and PIPELINING is queued; Message-ID and Date are added', async () => {
  const result = await swaks(
    '--port',
    String(relay.port('submission')),
    '--tls',
    ...asAlice('PLAIN'),
    '--pipeline',
    '--data',
    'Subject: submitted\r\n\r\nhello\r\n',
  );
  assert.equal(result.code, 0, result.output);
  const queueId = /250 2\.6\.0 Ok: queued as (\S+)/.exec(result.output)?.[1];
  assert.ok(queueId, result.output);
  const headers = (await relay.spool.readHeaderSection(queueId, 8192)).toString();
  assert.match(headers, /with ESMTPSA id /);
  assert.match(headers, /\(using TLSv1\.[23] with cipher /);
  assert.match(headers, /^Message-ID: <.+@relay\.test>\r$/m);
  assert.match(headers, /^Date: .+ \+0000\r$/m);
  const envelope = relay.spool.show(queueId)?.envelope;
  assert.ok(envelope);
  assert.equal(envelope.senderDomain, 'shop.example');
  assert.equal(envelope.authenticatedUser, 'alice');
});

test('swaks: implicit TLS with AUTH LOGIN', async () => {
  const result = await swaks('--port', String(relay.port('smtps')), '--tlsc', ...asAlice('LOGIN'));
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /250 2\.6\.0 Ok: queued as/);
});

test('requireTls: MAIL before STARTTLS is refused with 530 5.7.0; after STARTTLS the transaction goes on', async () => {
  const plaintext = await swaks(
    '--port',
    String(relay.port('starttls-only')),
    '--from',
    'alice@shop.example',
    '--to',
    'someone@example.com',
    '--quit-after',
    'MAIL',
  );
  assert.notEqual(plaintext.code, 0, plaintext.output);
  assert.match(plaintext.output, /<\*\* +530 5\.7\.0 Must issue a STARTTLS command first/);
  const encrypted = await swaks('--port', String(relay.port('starttls-only')), '--tls', ...asAlice('PLAIN'));
  assert.equal(encrypted.code, 0, encrypted.output);
  assert.match(encrypted.output, /250 2\.6\.0 Ok: queued as/);
});

test('a listener with offerAuth and offerStartTls false offers neither, while the others still do', async () => {
  const client = await SmtpTestClient.connect(relay.port('bare'));
  assert.equal((await client.reply()).code, 220);
  const ehlo = await client.command('EHLO client.test');
  assert.ok(!ehlo.lines.some((line) => /STARTTLS|AUTH/.test(line)), ehlo.text);
  assert.ok((await client.command('STARTTLS')).code >= 500, 'STARTTLS refused');
  assert.ok((await client.command('AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=')).code >= 500, 'AUTH refused');
  client.close();
  const refused = await swaks('--port', String(relay.port('bare')), '--tls', '--quit-after', 'STARTTLS');
  assert.notEqual(refused.code, 0, refused.output);
  const offered = await swaks('--port', String(relay.port('smtp')), '--tls', '--quit-after', 'STARTTLS');
  assert.equal(offered.code, 0, offered.output);
});

test('submission without AUTH is refused with 530 5.7.0', async () => {
  const result = await swaks(
    '--port',
    String(relay.port('submission')),
    '--tls',
    '--from',
    'alice@shop.example',
    '--to',
    'x@example.com',
  );
  assert.notEqual(result.code, 0);
  assert.match(result.output, /530 5\.7\.0/);
});

test('a user may only send as the sender domains it is allowed', async () => {
  const result = await swaks(
    '--port',
    String(relay.port('submission')),
    '--tls',
    '--auth',
    'PLAIN',
    '--auth-user',
    'bob',
    '--auth-password',
    'bob-pass',
    '--from',
    'bob@shop.example',
    '--to',
    'x@example.com',
  );
  assert.notEqual(result.code, 0);
  assert.match(result.output, /553 5\.7\.1/);
});

test('case 3: AUTH is not advertised before STARTTLS and is answered 538 5.7.11; after TLS it is offered', async () => {
  for (const listener of ['smtp', 'submission']) {
    const client = await SmtpTestClient.connect(relay.port(listener));
    assert.equal((await client.reply()).code, 220);
    const ehlo = await client.command('EHLO client.test');
    assert.ok(
      ehlo.lines.some((line) => line.endsWith('STARTTLS')),
      ehlo.text,
    );
    assert.ok(!ehlo.lines.some((line) => line.includes('AUTH')), `${listener}: ${ehlo.text}`);
    assert.match((await client.command('AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=')).text, /^538 5\.7\.11 /);
    assert.match((await client.command('AUTH LOGIN')).text, /^538 5\.7\.11 /);
    assert.equal((await client.command('STARTTLS')).code, 220);
    await client.startTls(ca);
    const secured = await client.command('EHLO client.test');
    assert.ok(
      secured.lines.some((line) => line.endsWith('AUTH PLAIN LOGIN')),
      secured.text,
    );
    assert.match((await client.command('AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3M=')).text, /^235 2\.7\.0 /);
    client.close();
  }
});

test('case 2: commands pipelined after STARTTLS are discarded, never executed inside TLS', async () => {
  const client = await SmtpTestClient.connect(relay.port('smtp'));
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  const credentials = Buffer.from('\0alice\0alice-pass').toString('base64');
  client.write(`STARTTLS\r\nEHLO injected.test\r\nAUTH PLAIN ${credentials}\r\n`);
  assert.equal((await client.reply()).code, 220);
  await client.startTls(ca);
  const ehlo = await client.command('EHLO client.test');
  assert.equal(ehlo.code, 250);
  // Had the injected AUTH run inside TLS, AUTH would be gone from EHLO and this would be 503.
  assert.ok(
    ehlo.lines.some((line) => line.endsWith('AUTH PLAIN LOGIN')),
    ehlo.text,
  );
  assert.match((await client.command(`AUTH PLAIN ${credentials}`)).text, /^235 2\.7\.0 /);
  client.close();
});

test('case 2: a partial plaintext line before the handshake is purged', async () => {
  const client = await SmtpTestClient.connect(relay.port('smtp'));
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  client.write('STARTTLS\r\nRSET');
  assert.equal((await client.reply()).code, 220);
  await client.startTls(ca);
  // The plaintext "RSET" must not prefix the first command inside TLS ("RSETEHLO ..." would be 500).
  assert.equal((await client.command('EHLO client.test')).code, 250);
  client.close();
});

test('case 2: openssl s_client -starttls smtp completes the handshake against the relay', async () => {
  const { stdout } = await run(
    'sh',
    [
      '-c',
      `printf 'QUIT\\r\\n' | openssl s_client -starttls smtp -connect 127.0.0.1:${relay.port('smtp')} -CAfile ${certificates.caFile} -servername relay.test -quiet -verify_return_error 2>&1`,
    ],
    { timeout: 20_000 },
  );
  assert.match(stdout, /221 2\.0\.0/);
});

test('case 4: after 3 failures the connection is closed with 421; failures are counted', async () => {
  const client = await SmtpTestClient.connect(relay.port('smtps'), { tls: { ca } });
  assert.equal((await client.reply()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  const wrong = Buffer.from('\0alice\0wrong').toString('base64');
  assert.match((await client.command(`AUTH PLAIN ${wrong}`)).text, /^535 5\.7\.8 /);
  assert.match((await client.command(`AUTH PLAIN ${wrong}`)).text, /^535 5\.7\.8 /);
  assert.match((await client.command(`AUTH PLAIN ${wrong}`)).text, /^421 4\.7\.0 /);
  await client.closedByServer();
  assert.match(
    await relay.registry.metrics(),
    /mailfleet_relay_auth_failures_total\{listener="smtps",reason="bad_credentials"\} [3-9]/,
  );
});

test('case 4: failures per client IP are limited across connections with 454 4.7.0', async () => {
  const wrong = Buffer.from('\0nobody\0wrong').toString('base64');
  const right = Buffer.from('\0alice\0alice-pass').toString('base64');
  let limited = false;
  for (let attempt = 0; attempt < 6 && !limited; attempt++) {
    const client = await SmtpTestClient.connect(relay.port('smtps'), { tls: { ca } });
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    const reply = await client.command(`AUTH PLAIN ${wrong}`);
    if (reply.code === 454) {
      assert.match(reply.text, /^454 4\.7\.0 /);
      assert.match(
        (await client.command(`AUTH PLAIN ${right}`)).text,
        /^454 4\.7\.0 /,
        'even right credentials wait',
      );
      limited = true;
    }
    client.close();
  }
  assert.ok(limited, 'the per-IP failure bucket (burst 6) ran out');
});

test('case 11: the per-IP connection limit answers 421', async () => {
  const clients: SmtpTestClient[] = [];
  try {
    let refused: string | undefined;
    for (let i = 0; i < 45 && refused === undefined; i++) {
      const client = await SmtpTestClient.connect(relay.port('smtp'));
      clients.push(client);
      const reply = await client.reply();
      if (reply.code === 421) refused = reply.text;
    }
    assert.match(refused ?? 'none', /^421 4\.7\.0 /);
    assert.match(
      await relay.registry.metrics(),
      /mailfleet_relay_connection_limit_refusals_total\{listener="smtp",limit="per_ip"\} [1-9]/,
    );
  } finally {
    for (const client of clients) client.close();
  }
});
