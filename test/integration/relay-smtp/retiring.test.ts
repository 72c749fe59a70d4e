// A relay retired by its config (`retiring: true`, what the operator renders for a deleted
// SmtpRelay), as a process reloading its config: new connections get 421 4.3.2 instead of a banner
// (swaks), a session opened before gets 421 4.3.2 at its next MAIL, /readyz turns 503, /queuez says
// `retiring` with the queue's size, a message deferred for ten minutes is retried at once and
// delivered to smtp-sink; un-retired, the relay serves again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { QueueReport } from '../../../relay/health.ts';
import {
  startRelayProcess,
  writeRelayConfig,
  type ConfigDocument,
  type RelayProcess,
} from '../../support/relay-process.ts';
import { freeTcpPort, startSmtpSink } from '../../support/smtp-sink.ts';
import { relayToNextHop } from '../reliability/relay-to-next-hop.ts';
import { SmtpTestClient } from './smtp-client.ts';

const run = promisify(execFile);
const tenMinuteRetries = { retryInitialSeconds: 600, retryMaxSeconds: 600, connectTimeoutSeconds: 1 };
const mainScript = new URL('../../../relay/main.ts', import.meta.url).pathname;

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

async function swaks(port: number): Promise<{ ok: boolean; output: string }> {
  const args = ['--server', `127.0.0.1:${port}`, '--from', 'app@example.org', '--to', 'x@example.com'];
  try {
    const { stdout, stderr } = await run('swaks', ['--timeout', '10', ...args]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function setRetiring(relay: RelayProcess, config: ConfigDocument, retiring: boolean): Promise<void> {
  const event = retiring ? 'retiring' : 'serving';
  const seen = relay.logs.filter((line) => line.event === event).length;
  await writeFile(relay.configPath, JSON.stringify({ ...config, retiring }));
  relay.child.kill('SIGHUP');
  await relay.waitForLog(
    (line) => line.event === event && relay.logs.filter((entry) => entry.event === event).length > seen,
  );
}

test('retired by a reload: 421 4.3.2 to new mail, not ready, the queue retried at once and delivered; un-retired, serving again', async () => {
  const hopPort = await freeTcpPort();
  // Nothing listens on the smarthost port at first: the message is deferred for ten minutes.
  const config = relayToNextHop(hopPort, { delivery: tenMinuteRetries });
  const relay = await startRelayProcess(config);
  let hop: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
  try {
    const port = relay.smtpPorts['smtp'] ?? 0;
    const sent = await swaks(port);
    assert.ok(sent.ok, sent.output);
    await relay.waitForLog((line) => line.event === 'deferred');
    assert.deepEqual(JSON.parse((await get(relay.httpPort, '/queuez')).body), {
      phase: 'serving',
      messages: 1,
    });

    const open = await SmtpTestClient.connect(port);
    assert.equal((await open.reply()).code, 220);
    assert.equal((await open.command('EHLO client.test')).code, 250);

    hop = await startSmtpSink({ port: hopPort });
    await setRetiring(relay, config, true);
    const ready = await get(relay.httpPort, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body, /retiring/);
    const refused = await swaks(port);
    assert.ok(!refused.ok, 'a new connection is refused');
    assert.match(refused.output, /<\*\* +421 4\.3\.2 Service shutting down/);
    assert.match((await open.command('MAIL FROM:<app@example.org>')).text, /^421 4\.3\.2 /);
    open.close();

    // Retired, the deferred message was made due at once: it reaches the hop minutes before its retry.
    const [delivered] = await hop.waitForMessages(1, 15_000);
    assert.deepEqual(delivered?.recipients, ['x@example.com']);
    await waitFor(
      async () => (JSON.parse((await get(relay.httpPort, '/queuez')).body) as QueueReport).messages === 0,
    );
    assert.deepEqual(JSON.parse((await get(relay.httpPort, '/queuez')).body), {
      phase: 'retiring',
      messages: 0,
    });
    assert.match(await get(relay.httpPort, '/metrics').then((r) => r.body), /reason="shutdown"\} [1-9]/);

    await setRetiring(relay, config, false);
    assert.equal((await get(relay.httpPort, '/readyz')).status, 200);
    const again = await swaks(port);
    assert.ok(again.ok, again.output);
  } finally {
    await relay.stop();
    await hop?.stop();
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('--drain-and-exit on a spool left behind: exit 3 while nothing can take its mail, 0 once a peer took all of it', async () => {
  const spoolDir = await mkdtemp(join(tmpdir(), 'mailfleet-left-behind-'));
  const hopPort = await freeTcpPort();
  const config = (drainPeers: string[]): ConfigDocument => {
    const base = relayToNextHop(hopPort, { delivery: { ...tenMinuteRetries, drainPeers } });
    return { ...base, http: { port: 0, address: '127.0.0.1' }, queue: { dir: spoolDir } };
  };
  const sink = await startSmtpSink();
  const peer = await startRelayProcess({
    ...config([]),
    queue: {},
    delivery: {
      mode: 'smarthost',
      smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' },
      allowPrivateDestinations: true,
    },
  });
  const drainOnly = async (drainPeers: string[]): Promise<number> => {
    const written = await writeRelayConfig(config(drainPeers));
    try {
      await run(process.execPath, [mainScript, '--config', written.configPath, '--drain-and-exit'], {
        timeout: 30_000,
      });
      return 0;
    } catch (error) {
      return (error as { code: number }).code;
    } finally {
      await rm(written.dir, { recursive: true, force: true });
    }
  };
  try {
    // A relay takes three messages it cannot deliver, and stops with no peer: they stay on the spool.
    const first = await startRelayProcess(config([]));
    for (let n = 0; n < 3; n++) assert.ok((await swaks(first.smtpPorts['smtp'] ?? 0)).ok);
    await first.waitForLog((line) => line.event === 'deferred');
    assert.equal(await first.stop(), 0);

    assert.equal(
      await drainOnly([]),
      3,
      'no next hop and no peer: the mail is left, and the exit code says so',
    );
    assert.equal((await sink.messages()).length, 0);
    const peerAddress = `127.0.0.1:${peer.smtpPorts['smtp'] ?? 0}`;
    assert.equal(await drainOnly([peerAddress]), 0, 'a peer took everything');
    const delivered = await sink.waitForMessages(3, 15_000);
    assert.equal(delivered.length, 3);
    assert.equal(await drainOnly([]), 0, 'the spool is empty now');
    assert.equal((await sink.messages()).length, 3, 'each message once');
  } finally {
    await peer.stop();
    await sink.stop();
    await rm(spoolDir, { recursive: true, force: true });
  }
});
