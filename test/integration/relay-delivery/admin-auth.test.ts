// Case 35: the queue admin endpoint needs the token the relay wrote at start, refuses anything a
// browser sends (an Origin header) and any Host but the loopback address (DNS rebinding), and
// `mailfleet-relay queue ...` as shipped (relay/main.ts, the token file found from the port) works.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startQueueAdmin, type QueueAdmin } from '../../../relay/admin/server.ts';
import { defaultAdminTokenDir, readAdminToken } from '../../../relay/admin/token.ts';
import { freeTcpPort } from '../../support/smtp-sink.ts';
import { enqueue, envelopeFor, messageText, startHarness, type Harness } from './harness.ts';

const mainScript = new URL('../../../relay/main.ts', import.meta.url).pathname;

let harness: Harness;
let admin: QueueAdmin;
let tokenDir: string;
let token: string;
let queueId: string;

before(async () => {
  tokenDir = await mkdtemp(join(tmpdir(), 'mailfleet-admin-'));
  harness = await startHarness({
    delivery: {
      smarthost: { host: '127.0.0.1', port: await freeTcpPort(), tls: 'none' },
      retryInitialSeconds: 600,
    },
  });
  admin = await startQueueAdmin({
    spool: harness.spool,
    drain: (deadline) => harness.service.drain(deadline),
    now: () => Date.now(),
    port: 0,
    tokenDir,
    logger: pino({ level: 'silent' }),
  });
  token = await readAdminToken(admin.tokenFile);
  queueId = await enqueue(
    harness.spool,
    envelopeFor('alice@example.org', ['bob@x.test']),
    messageText('alice@example.org', 'bob@x.test', 'admin'),
  );
  await harness.waitForLog((line) => line['event'] === 'deferred' && line['queueId'] === queueId, 10_000);
});

after(async () => {
  await admin.close();
  await harness.close();
  await rm(tokenDir, { recursive: true, force: true });
});

/** A raw HTTP request, so the test sets Host and Origin exactly as a browser or an attacker would. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: { error?: string; retried?: number } }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: admin.port, method, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as { error?: string } });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('case 35: the token file is the relay user’s alone (mode 0600) and named after the port', async () => {
  assert.equal(admin.tokenFile, join(tokenDir, `mailfleet-admin-${admin.port}.token`));
  assert.equal((await stat(admin.tokenFile)).mode & 0o777, 0o600);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
});

test('case 35: without the token, or with a wrong one, every route answers 401 and nothing happens', async () => {
  const host = `127.0.0.1:${admin.port}`;
  for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, `Bearer ${token}x`]) {
    const headers: Record<string, string> = {
      host,
      ...(authorization === undefined ? {} : { authorization }),
    };
    const listed = await send('GET', '/queue', headers);
    assert.equal(listed.status, 401, String(authorization));
    assert.match(listed.body.error ?? '', /needs the token .*queue\.adminTokenDir/);
    assert.equal((await send('POST', '/queue/retry', headers)).status, 401);
    assert.equal((await send('DELETE', `/queue/${queueId}`, headers)).status, 401);
  }
  assert.equal(harness.spool.show(queueId)?.recipients[0]?.attempts, 1, 'no retry happened');
});

test('case 35: a request with an Origin header is refused with 403, even with the token', async () => {
  const headers = { host: `127.0.0.1:${admin.port}`, authorization: `Bearer ${token}` };
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${admin.port}`]) {
    const refused = await send('POST', '/queue/retry', { ...headers, origin });
    assert.equal(refused.status, 403, origin);
    assert.match(refused.body.error ?? '', /Origin header .* not for browsers/);
  }
  assert.equal(harness.spool.show(queueId)?.recipients[0]?.attempts, 1, 'no retry happened');
  assert.equal((await send('POST', '/queue/retry', headers)).status, 200, 'the same request without Origin');
});

test('case 35: a Host other than the loopback address (DNS rebinding) is refused with 403', async () => {
  for (const host of ['evil.example', `evil.example:${admin.port}`, `127.0.0.1:${admin.port + 1}`]) {
    const refused = await send('GET', '/queue', { host, authorization: `Bearer ${token}` });
    assert.equal(refused.status, 403, host);
    assert.match(refused.body.error ?? '', /Host .* is refused/);
  }
});

test('case 35: mailfleet-relay queue list works unchanged, finding the token from the port', async () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [mainScript, 'queue', ...args]).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
  const url = `http://127.0.0.1:${admin.port}`;
  const listed = await cli(
    '--admin-url',
    url,
    '--admin-token-dir',
    tokenDir,
    'list',
    '--status',
    'deferred',
    '--recipient',
    'bob@x.test',
  );
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(queueId));
  const lost = await cli('--admin-url', url, '--admin-token-dir', join(tokenDir, 'elsewhere'), 'list');
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /cannot read the queue admin token .*elsewhere\/mailfleet-admin-\d+\.token/);
});

test('case 35: with the default token directory the CLI needs only the URL; close removes the file', async () => {
  const other = await startQueueAdmin({
    spool: harness.spool,
    drain: (deadline) => harness.service.drain(deadline),
    now: () => Date.now(),
    port: 0,
    tokenDir: defaultAdminTokenDir,
    logger: pino({ level: 'silent' }),
  });
  await stat(other.tokenFile);
  const { stdout } = await promisify(execFile)(process.execPath, [
    mainScript,
    'queue',
    '--admin-url',
    `http://127.0.0.1:${other.port}`,
    'list',
  ]);
  assert.match(stdout, new RegExp(queueId));
  await other.close();
  await assert.rejects(stat(other.tokenFile), { code: 'ENOENT' });
});
