// A protocol fuzzer against the relay process: concurrent sessions of random and mutated SMTP
// streams (bare CR/LF, dot lines, NULs, long lines, 8-bit, pipelined junk, random bytes after
// STARTTLS) from a seeded PRNG, for MAILFLEET_FUZZ_SECONDS. The relay must never exit, every reply
// line must be well formed, no session may hang, memory must stay bounded, and a normal transaction
// must still succeed afterwards. MAILFLEET_FUZZ_SEED replays a run.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import { numberFrom, seededRandom, seedFrom } from '../../support/seeded-random.ts';
import { makeTestCertificates } from '../../support/tls.ts';
import { SmtpTestClient } from '../relay-smtp/smtp-client.ts';
import { fuzzSession, replyProblems, type FuzzSession } from './smtp-fuzz.ts';
import { pause } from './smtp-load.ts';

const seed = seedFrom('MAILFLEET_FUZZ_SEED');
const seconds = numberFrom('MAILFLEET_FUZZ_SECONDS', 20);
const workers = 6;
const hostname = 'relay.test';
/** Silence allowed after the last write before a session counts as hung (idle timeout is 3 s). */
const hangAfterMs = 15_000;
const rssGrowthLimit = 64 * 1024 * 1024;

interface SessionResult {
  readonly received: string;
  readonly closed: boolean;
  readonly repliedAfterLastWrite: boolean;
}

async function runSession(port: number, session: FuzzSession, random: () => number): Promise<SessionResult> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let received = '';
  let closed = false;
  let lastWriteDone = false;
  let repliedAfterLastWrite = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
    if (lastWriteDone) repliedAfterLastWrite = true;
  });
  socket.on('error', () => undefined);
  const closedNow = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  for (const write of session.writes) {
    if (socket.destroyed) break;
    socket.write(write);
    if (random() < 0.5) await pause(Math.floor(random() * 15));
  }
  lastWriteDone = true;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closedNow, new Promise((resolve) => (timer = setTimeout(resolve, hangAfterMs)))]);
  clearTimeout(timer);
  socket.destroy();
  return { received, closed, repliedAfterLastWrite };
}

function rssBytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) => {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    if (kib === undefined) throw new Error(`no VmRSS for ${pid}`);
    return Number(kib) * 1024;
  });
}

async function normalTransaction(relay: RelayProcess): Promise<string> {
  const client = await SmtpTestClient.connect(relay.smtpPorts['smtp'] ?? 0);
  try {
    assert.equal((await client.reply()).code, 220);
    assert.equal((await client.command('EHLO client.test')).code, 250);
    assert.equal((await client.command('MAIL FROM:<alice@example.org>')).code, 250);
    assert.equal((await client.command('RCPT TO:<bob@x.test>')).code, 250);
    assert.equal((await client.command('DATA')).code, 354);
    client.write('Subject: after the fuzz\r\n\r\nstill here\r\n.\r\n');
    return (await client.reply()).text;
  } finally {
    client.close();
  }
}

test(
  `protocol fuzzer: ${seconds} s of mutated SMTP never crashes, hangs or leaks the relay`,
  { timeout: seconds * 1000 + 120_000 },
  async (t) => {
    t.diagnostic(
      `seed ${seed} (MAILFLEET_FUZZ_SEED), ${seconds} s (MAILFLEET_FUZZ_SECONDS), ${workers} workers`,
    );
    const certificates = await makeTestCertificates([hostname]);
    const relay = await startRelayProcess({
      hostname,
      listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
      tls: { certificates: [{ certFile: certificates.certFile, keyFile: certificates.keyFile }] },
      policy: { allowedNetworks: ['127.0.0.0/8'], maxMessageBytes: 1024 * 1024 },
      limits: {
        greetingDelayMs: 0,
        allowedNetworksGreetingDelayMs: 0,
        commandTimeoutSeconds: 3,
        sessionTimeoutSeconds: 30,
        drainTimeoutSeconds: 1,
      },
    });
    let exitedDuringFuzz: string | undefined;
    relay.child.once('exit', (code, signal) => {
      exitedDuringFuzz = `exit code ${code}, signal ${signal}`;
    });
    try {
      const pid = relay.child.pid ?? 0;
      const port = relay.smtpPorts['smtp'] ?? 0;
      assert.match(await normalTransaction(relay), /^250 /, 'a normal transaction works before');
      const rssBefore = await rssBytes(pid);
      const problems: string[] = [];
      const hung: string[] = [];
      let sessions = 0;
      let replyLines = 0;
      const until = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: workers }, async (_, worker) => {
          const random = seededRandom(seed + worker);
          for (let index = 0; Date.now() < until && exitedDuringFuzz === undefined; index += 1) {
            const session = fuzzSession(random);
            const result = await runSession(port, session, () => random.next());
            sessions += 1;
            replyLines += result.received.split('\r\n').length - 1;
            const label = `worker ${worker} session ${index} (${session.description})`;
            for (const problem of replyProblems(result.received, hostname))
              problems.push(`${label}: ${problem}`);
            if (!result.closed && !result.repliedAfterLastWrite) hung.push(label);
          }
        }),
      );
      const rssAfter = await rssBytes(pid);
      t.diagnostic(
        `${sessions} sessions, ${replyLines} reply lines; RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.equal(exitedDuringFuzz, undefined, 'the relay never exited');
      assert.deepEqual(
        [...new Set(problems.map((p) => p.replace(/^.*\): /, '')))],
        [],
        `${problems.length} malformed replies`,
      );
      assert.deepEqual(hung, [], 'every session got a reply or a close');
      assert.ok(sessions >= workers, 'the fuzzer ran');
      assert.ok(rssAfter - rssBefore < rssGrowthLimit, `RSS grew by ${rssAfter - rssBefore} bytes`);
      assert.match(await normalTransaction(relay), /^250 /, 'a normal transaction works after');
    } finally {
      await relay.stop(5000);
      await rm(certificates.dir, { recursive: true, force: true });
    }
  },
);
