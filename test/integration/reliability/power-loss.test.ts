// Power loss under load: the relay's spool lives on test/lazyfs, which keeps everything unsynced in
// memory. At random moments the test kills the relay with -9 and cuts the power (kill -9 of lazyfs:
// every write, create, rename and unlink no fsync made durable is gone), then restarts both on what
// the disk kept, MAILFLEET_POWER_CUTS times (make soak-power: thousands). Between cuts delivery goes to
// a closed port, so every message stays queued (first in the segment log, then, once deferred, in a
// file of its own) and after every cut each message answered 250 so far must be in the recovered
// spool, whole. Every MAILFLEET_POWER_CUTS_PER_SPOOL cuts, and after the last, the machine boots once
// more with Postfix's smtp-sink as the next hop and the recovered spool drains: each message answered
// 250 must arrive, byte for byte as sent, exactly once, and nothing else may. The negative control
// mounts lazyfs with -ignore-fsync (fsync makes nothing durable) and must find lost, undelivered mail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { mountLazyFs, type LazyMount } from '../../support/lazyfs.ts';
import { startRelayProcess, type ConfigDocument, type RelayProcess } from '../../support/relay-process.ts';
import { numberFrom, seededRandom, seedFrom } from '../../support/seeded-random.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { queuedMessages, waitUntil } from './relay-metrics.ts';
import { killHard, relayToNextHop } from './relay-to-next-hop.ts';
import { endMarker, pause, startSmtpLoad, type SmtpLoad } from './smtp-load.ts';
import { auditSinkDumps, messageIdIn, queuedMessageIds, spoolFiles, type SinkAudit } from './spool-files.ts';

const run = promisify(execFile);
const mainScript = new URL('../../../relay/main.ts', import.meta.url).pathname;
const cuts = numberFrom('MAILFLEET_POWER_CUTS', 24);
const seed = seedFrom('MAILFLEET_POWER_SEED');
const maxRunMs = numberFrom('MAILFLEET_POWER_MAX_RUN_MS', 1200);
// Nothing is delivered between cuts, so the spool only grows and every restart recovers more: after
// this many cuts the recovered spool is delivered and the test starts over on a fresh one.
const cutsPerSpool = numberFrom('MAILFLEET_POWER_CUTS_PER_SPOOL', 10);
/** The discard port on loopback, where nothing listens: every attempt between cuts fails. */
const closedPort = 9;
const drainTimeoutMs = 180_000;

interface Outcome {
  readonly cuts: number;
  readonly seconds: number;
  readonly attempted: number;
  readonly acknowledged: number;
  /** Messages found in the recovered spools after their last cut, summed over the spools. */
  readonly recovered: number;
  /** Of the recovered, those in files of their own (deferred once), the rest in segments. */
  readonly recoveredInFiles: number;
  /** Acknowledged, neither in the spool after a cut nor delivered from an earlier spool. */
  readonly lost: number;
  readonly firstLossAt: number | undefined;
  /** Boots that delivered a recovered spool to smtp-sink, and the seconds they took. */
  readonly drains: number;
  readonly drainSeconds: number;
  /** Distinct Message-IDs that arrived whole and unchanged. */
  readonly delivered: number;
  /** Of those, messages the relay committed but whose 250 a cut took from the client. */
  readonly deliveredWithout250: number;
  /** Copies beyond the first, over the whole run. */
  readonly duplicates: number;
  /** Acknowledged, not delivered by the drains. */
  readonly undelivered: number;
}

interface RunDirs {
  /** What the disk holds: lazyfs writes here only what an fsync made durable. */
  readonly backing: string;
  readonly mountpoint: string;
  /** The relay's config, and its queue admin token (a relay killed with -9 leaves its token behind). */
  readonly configDir: string;
}

/**
 * The relay on the spool on lazyfs. Between cuts its next hop is a closed port: nothing leaves the
 * spool, and a message deferred once waits retryInitialSeconds (300 s), past any cut. At the boot
 * that drains a spool the next hop is smtp-sink, retried after 1 s.
 */
function relayOnSpool(dirs: RunDirs, nextHopPort: number, retryInitialSeconds: number): ConfigDocument {
  return {
    ...relayToNextHop(nextHopPort, { delivery: { retryInitialSeconds } }),
    queue: { dir: join(dirs.mountpoint, 'spool'), adminTokenDir: dirs.configDir },
  };
}

/** Files of their own that lack their end marker: a message recovered but not whole. */
async function partialFiles(spoolDir: string): Promise<string[]> {
  const partial: string[] = [];
  for (const file of await spoolFiles(spoolDir, '.msg')) {
    const messageId = await messageIdIn(file.path);
    const body = await readFile(file.path, 'latin1');
    if (messageId === undefined || !body.includes(endMarker(messageId))) partial.push(file.queueId);
  }
  return partial;
}

/**
 * A boot after the last cut on a spool: a fresh lazyfs over the backing directory (what the disk
 * kept), the relay with smtp-sink as its next hop, `mailfleet-relay queue retry --all` (as an operator
 * would: messages deferred between cuts are not due for minutes) and the queue drained to empty. Then
 * the relay stops, lazyfs unmounts, and every dump that arrived is audited and removed.
 */
async function deliverRecovered(dirs: RunDirs, sink: SmtpSink, load: SmtpLoad): Promise<SinkAudit> {
  const mount = await mountLazyFs(dirs.backing, dirs.mountpoint);
  try {
    const relay = await startRelayProcess(relayOnSpool(dirs, sink.port, 1));
    try {
      const adminPort = relay.logs.find((line) => line.event === 'started')?.['adminPort'] as number;
      const endpoint = ['--admin-url', `http://127.0.0.1:${adminPort}`, '--admin-token-dir', dirs.configDir];
      await run(process.execPath, [mainScript, 'queue', ...endpoint, 'retry', '--all']);
      await waitUntil(
        'the recovered spool to drain to smtp-sink',
        drainTimeoutMs,
        async () => (await queuedMessages(relay.httpPort)) === 0,
      );
    } finally {
      await relay.stop(5000);
    }
  } finally {
    await mount.unmount();
  }
  return auditSinkDumps(sink.dumpDir, (messageId) => load.sentMessage(messageId));
}

async function powerCuts(
  t: TestContext,
  count: number,
  options: { readonly ignoreFsync: boolean; readonly stopAtFirstLoss: boolean },
): Promise<Outcome> {
  const random = seededRandom(seed);
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-power-'));
  const dirs: RunDirs = {
    backing: join(dir, 'disk'),
    mountpoint: join(dir, 'mnt'),
    configDir: join(dir, 'config'),
  };
  await Promise.all([mkdir(dirs.backing), mkdir(dirs.mountpoint), mkdir(dirs.configDir)]);
  // Each run of cuts starts without a spool: the relay creates it on lazyfs, so its directories
  // must become durable too (openSpool syncs them before the first 250).
  const spoolDir = join(dirs.backing, 'spool');
  const config = relayOnSpool(dirs, closedPort, 300);
  const sink = await startSmtpSink();
  let port: number | undefined;
  const load = startSmtpLoad({
    port: () => port,
    sessions: 4,
    bodyBytes: 2048,
    tag: `power${seed}${options.ignoreFsync ? 'x' : ''}`,
    recipient: 'sink@x.test',
  });
  let relay: RelayProcess | undefined;
  let mount: LazyMount | undefined;
  // What the last cut left on the current spool, and how much of it sits in files of their own.
  let lastRecovered = new Set<string>();
  let recoveredInFiles = 0;
  let recovered = 0;
  let recoveredInFilesTotal = 0;
  let lost = 0;
  let firstLossAt: number | undefined;
  let done = 0;
  const delivered = new Set<string>();
  let duplicates = 0;
  let drains = 0;
  let drainMs = 0;
  const drain = async (): Promise<void> => {
    const drainStarted = Date.now();
    const audit = await deliverRecovered(dirs, sink, load);
    drainMs += Date.now() - drainStarted;
    drains += 1;
    recovered += lastRecovered.size;
    recoveredInFilesTotal += recoveredInFiles;
    assert.deepEqual(
      audit.bad,
      [],
      `drain ${drains}: a delivered message is partial, altered or was never sent`,
    );
    const arrived = new Set(audit.intact);
    duplicates += audit.intact.length - arrived.size;
    for (const id of arrived) {
      if (delivered.has(id)) duplicates += 1;
      delivered.add(id);
    }
    // The boot recovers exactly what the last cut left (the same bytes, read by the same code).
    assert.deepEqual(
      [...lastRecovered].filter((id) => !arrived.has(id)),
      [],
      `drain ${drains}: recovered after the last cut, not delivered`,
    );
    assert.deepEqual(
      [...arrived].filter((id) => !lastRecovered.has(id)),
      [],
      `drain ${drains}: delivered, not in the spool the last cut left`,
    );
    assert.equal(duplicates, 0, `drain ${drains}: a message arrived more than once`);
    const undelivered = [...load.acknowledged.keys()].filter((id) => !delivered.has(id));
    if (!options.stopAtFirstLoss)
      assert.deepEqual(undelivered, [], `drain ${drains}: acknowledged, never delivered`);
  };
  const started = Date.now();
  try {
    for (let cut = 0; cut < count; cut += 1) {
      if (cut % cutsPerSpool === 0) {
        if (cut > 0) await drain();
        lastRecovered = new Set();
        recoveredInFiles = 0;
        await rm(spoolDir, { recursive: true, force: true });
      }
      mount = await mountLazyFs(dirs.backing, dirs.mountpoint, { ignoreFsync: options.ignoreFsync });
      relay = await startRelayProcess(config, dirs.configDir);
      port = relay.smtpPorts['smtp'];
      await pause(random.chance(0.1) ? random.int(0, 50) : random.int(100, maxRunMs));
      await killHard(relay);
      port = undefined;
      await mount.cut();
      mount = undefined;
      done += 1;
      // A spool that never reached the disk (fsync ignored) recovers as nothing at all.
      const onDisk = await stat(spoolDir).then(
        () => true,
        () => false,
      );
      const queued = new Set(onDisk ? await queuedMessageIds(spoolDir) : []);
      lastRecovered = queued;
      // A 250 read after the kill may still come from a spool delivered before: neither is lost.
      const missing = [...load.acknowledged.keys()].filter((id) => !queued.has(id) && !delivered.has(id));
      if (onDisk)
        assert.deepEqual(await partialFiles(spoolDir), [], `cut ${cut}: a recovered message is not whole`);
      recoveredInFiles = onDisk ? (await spoolFiles(spoolDir, '.msg')).length : 0;
      lost = missing.length;
      if (lost > 0) {
        firstLossAt ??= cut;
        if (options.stopAtFirstLoss) break;
        assert.deepEqual(missing, [], `cut ${cut}: acknowledged, not in the recovered spool`);
      }
    }
    await drain();
  } finally {
    port = undefined;
    if (relay !== undefined) await killHard(relay);
    if (mount !== undefined) await mount.cut();
    await load.stop();
    await sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const outcome: Outcome = {
    cuts: done,
    seconds: (Date.now() - started) / 1000,
    attempted: load.attempted(),
    acknowledged: load.acknowledged.size,
    recovered,
    recoveredInFiles: recoveredInFilesTotal,
    lost,
    firstLossAt,
    drains,
    drainSeconds: drainMs / 1000,
    delivered: delivered.size,
    deliveredWithout250: [...delivered].filter((id) => !load.acknowledged.has(id)).length,
    duplicates,
    undelivered: [...load.acknowledged.keys()].filter((id) => !delivered.has(id)).length,
  };
  t.diagnostic(JSON.stringify(outcome));
  return outcome;
}

test(
  `${cuts} power cuts under load lose no acknowledged message; each is delivered once, whole`,
  { timeout: cuts * 12_000 + 180_000 },
  async (t) => {
    t.diagnostic(`seed ${seed} (MAILFLEET_POWER_SEED), cuts ${cuts} (MAILFLEET_POWER_CUTS)`);
    const outcome = await powerCuts(t, cuts, { ignoreFsync: false, stopAtFirstLoss: false });
    assert.equal(outcome.lost, 0);
    assert.equal(outcome.undelivered, 0);
    assert.ok(outcome.acknowledged >= cuts, `load kept flowing (${outcome.acknowledged} acknowledged)`);
  },
);

test('negative control: with fsync ignored by lazyfs, power cuts lose acknowledged mail', async (t) => {
  const outcome = await powerCuts(t, 3, { ignoreFsync: true, stopAtFirstLoss: true });
  assert.ok(outcome.lost > 0, `the control lost ${outcome.lost} of ${outcome.acknowledged} acknowledged`);
  assert.ok(
    outcome.undelivered > 0,
    `the control's drain delivered all but ${outcome.undelivered} of ${outcome.acknowledged} acknowledged`,
  );
});
