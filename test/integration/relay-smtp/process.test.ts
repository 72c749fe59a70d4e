// The relay as the container runs it: `node relay/main.ts --config ...` as a child process.
// --check, /healthz /readyz /metrics, live reload (SIGHUP and Kubernetes-style `..data` symlink
// swaps) without dropping a connection, an invalid reload refused, SIGTERM drain, and Postfix's
// smtp-source sending into it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { projectVolume } from '../../support/projected-volume.ts';
import { startRelayProcess, writeRelayConfig, type ConfigDocument } from '../../support/relay-process.ts';
import { makeTestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from './smtp-client.ts';

const run = promisify(execFile);
const mainScript = new URL('../../../relay/main.ts', import.meta.url).pathname;

const base: ConfigDocument = {
  hostname: 'relay.test',
  listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
  policy: { allowedNetworks: ['127.0.0.0/8'] },
  limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 2 },
};

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

test('--check: 0 for a valid config; non-zero with every error printed', async () => {
  const valid = await writeRelayConfig(base);
  const invalid = await writeRelayConfig({
    ...base,
    hostname: '-',
    limits: { greetingDelayMs: -1 },
    listeners: [{ name: 'X', port: 1, mode: 'nope' }],
  });
  try {
    const ok = await run(process.execPath, [mainScript, '--config', valid.configPath, '--check']);
    assert.match(ok.stdout, /valid/);
    const failed = await run(process.execPath, [mainScript, '--config', invalid.configPath, '--check']).then(
      () => assert.fail('--check accepted an invalid config'),
      (error: unknown) => error as { code: number; stderr: string },
    );
    assert.equal(failed.code, 1);
    for (const pattern of [
      /\/hostname: /,
      /\/limits\/greetingDelayMs: must be >= 0/,
      /\/listeners\/0\/name: /,
      /\/listeners\/0\/mode: /,
    ]) {
      assert.match(failed.stderr, pattern);
    }
  } finally {
    await rm(valid.dir, { recursive: true, force: true });
    await rm(invalid.dir, { recursive: true, force: true });
  }
});

test('reload: users and certificates swapped through a ..data symlink, an invalid config refused, connections kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-reload-'));
  const secrets = join(dir, 'secrets');
  await mkdir(secrets);
  const first = await makeTestCertificates(['relay.test'], dir, 'first');
  const second = await makeTestCertificates(['relay.test'], dir, 'second');
  const users = (name: string, password: string) => `${name}:${bcrypt.hashSync(password, 4)}\n`;
  await projectVolume(secrets, {
    users: users('alice', 'one'),
    'tls.crt': await readFile(first.certFile, 'utf8'),
    'tls.key': await readFile(first.keyFile, 'utf8'),
  });
  const config: ConfigDocument = {
    ...base,
    listeners: [{ name: 'smtps', port: 0, address: '127.0.0.1', mode: 'implicit-tls' }],
    tls: { certificates: [{ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key') }] },
    auth: { usersFile: join(secrets, 'users') },
  };
  const relay = await startRelayProcess(config, dir);
  try {
    const port = relay.smtpPorts['smtps'] ?? 0;
    const firstCa = await readFile(first.caFile, 'utf8');
    const secondCa = await readFile(second.caFile, 'utf8');
    const auth = (name: string, password: string) =>
      `AUTH PLAIN ${Buffer.from(`\0${name}\0${password}`).toString('base64')}`;
    const open = await SmtpTestClient.connect(port, { tls: { ca: firstCa } });
    assert.equal((await open.reply()).code, 220);
    assert.equal((await open.command('EHLO client.test')).code, 250);

    const reloads = () => relay.logs.filter((line) => line.event === 'reloaded').length;
    const before = reloads();
    await projectVolume(secrets, {
      users: users('bob', 'two'),
      'tls.crt': await readFile(second.certFile, 'utf8'),
      'tls.key': await readFile(second.keyFile, 'utf8'),
    });
    await relay.waitForLog((line) => line.event === 'reloaded' && reloads() > before);

    // The session opened before the swap is still served, with the new users.
    assert.match((await open.command(auth('alice', 'one'))).text, /^535 /);
    assert.match((await open.command(auth('bob', 'two'))).text, /^235 /);
    open.close();
    // New handshakes present the new certificate.
    const fresh = await SmtpTestClient.connect(port, { tls: { ca: secondCa } });
    assert.equal((await fresh.reply()).code, 220);
    fresh.close();
    await assert.rejects(SmtpTestClient.connect(port, { tls: { ca: firstCa } }));

    // An invalid config is refused with a log line; the old one keeps serving.
    await writeFile(relay.configPath, JSON.stringify({ ...config, hostname: 'not a hostname' }));
    relay.child.kill('SIGHUP');
    const refused = await relay.waitForLog((line) => line.event === 'reload_refused');
    assert.match(JSON.stringify(refused['errors']), /\/hostname/);
    const still = await SmtpTestClient.connect(port, { tls: { ca: secondCa } });
    assert.equal((await still.reply()).code, 220);
    assert.match((await still.command('EHLO client.test')).lines[0] ?? '', /relay\.test/);
    still.close();
  } finally {
    assert.equal(await relay.stop(), 0);
  }
});

test('health, metrics and SIGTERM drain; smtp-source delivers into the relay', async () => {
  const relay = await startRelayProcess(base);
  let stopped = false;
  try {
    const port = relay.smtpPorts['smtp'] ?? 0;
    assert.equal((await get(relay.httpPort, '/healthz')).status, 200);
    assert.equal((await get(relay.httpPort, '/readyz')).status, 200);

    const messages = 20;
    await run(
      '/usr/sbin/smtp-source',
      [
        '-c',
        '-m',
        String(messages),
        '-s',
        '4',
        '-l',
        '2048',
        '-f',
        'bench@example.org',
        '-t',
        'sink@example.com',
        `127.0.0.1:${port}`,
      ],
      { timeout: 60_000 },
    );
    const metrics = (await get(relay.httpPort, '/metrics')).body;
    assert.match(
      metrics,
      new RegExp(`mailfleet_relay_messages_received_total\\{listener="smtp"\\} ${messages}\\b`),
    );
    assert.equal(relay.logs.filter((line) => line.event === 'received').length, messages);

    // The queue admin client reaches the running relay's admin endpoint.
    const adminPort = relay.logs.find((line) => line.event === 'started')?.['adminPort'] as number;
    const listed = await run(process.execPath, [
      mainScript,
      'queue',
      '--admin-url',
      `http://127.0.0.1:${adminPort}`,
      '--admin-token-dir',
      relay.dir,
      'list',
    ]);
    assert.match(listed.stdout, /sink@example\.com/);

    // SIGTERM with a session open: readiness goes false, the open session is allowed to finish.
    const open = await SmtpTestClient.connect(port);
    assert.equal((await open.reply()).code, 220);
    relay.child.kill('SIGTERM');
    await relay.waitForLog((line) => line.event === 'draining');
    const ready = await get(relay.httpPort, '/readyz').catch(() => ({ status: 503, body: '' }));
    assert.equal(ready.status, 503);
    assert.equal((await open.command('EHLO client.test')).code, 250);
    assert.match((await open.command('QUIT')).text, /^221 /);
    stopped = true;
    assert.equal(await relay.stop(), 0);
    assert.ok(relay.logs.some((line) => line.event === 'stopped'));
  } finally {
    if (!stopped) await relay.stop();
  }
});
