// Power loss under load: the relay's spool lives on test/lazyfs, which keeps everything unsynced in
// memory. At random moments the test kills the relay with -9 and cuts the power (kill -9 of lazyfs:
// every write, create, rename and unlink no fsync made durable is gone), then restarts both on what
// the disk kept, MAILFLEET_POWER_CUTS times (make soak-power: thousands). After every cut each
// message answered 250 so far must be in the recovered spool, whole. Delivery goes to a closed port,
// so every message stays queued (first in the segment log, then, once deferred, in a file of its own)
// and the spool itself is the witness. The negative control mounts lazyfs with -ignore-fsync (fsync
// makes nothing durable) and must find lost mail: the check can fail.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { mountLazyFs, type LazyMount } from '../../support/lazyfs.ts';
import { startRelayProcess, type ConfigDocument, type RelayProcess } from '../../support/relay-process.ts';
import { numberFrom, seededRandom, seedFrom } from '../../support/seeded-random.ts';
import { killHard } from './relay-to-next-hop.ts';
import { endMarker, pause, startSmtpLoad } from './smtp-load.ts';
import { messageIdIn, queuedMessageIds, spoolFiles } from './spool-files.ts';

const cuts = numberFrom('MAILFLEET_POWER_CUTS', 30);
const seed = seedFrom('MAILFLEET_POWER_SEED');
const maxRunMs = numberFrom('MAILFLEET_POWER_MAX_RUN_MS', 1200);
// Nothing is delivered, so the spool only grows and every restart recovers more: after this many cuts
// the test starts over on a fresh spool (the messages checked so far are set aside).
const cutsPerSpool = numberFrom('MAILFLEET_POWER_CUTS_PER_SPOOL', 10);

interface Outcome {
  readonly cuts: number;
  readonly seconds: number;
  readonly attempted: number;
  readonly acknowledged: number;
  /** Messages found in the recovered spools, summed over the spools the run went through. */
  readonly recovered: number;
  /** Of the recovered, those in files of their own (deferred once), the rest in segments. */
  readonly recoveredInFiles: number;
  readonly lost: number;
  readonly firstLossAt: number | undefined;
}

function relayOnSpool(spoolDir: string): ConfigDocument {
  return {
    hostname: 'relay.test',
    listeners: [{ name: 'smtp', port: 0, address: '127.0.0.1', mode: 'relay' }],
    policy: { allowedNetworks: ['127.0.0.0/8'] },
    limits: { greetingDelayMs: 0, allowedNetworksGreetingDelayMs: 0, drainTimeoutSeconds: 1 },
    queue: { dir: spoolDir },
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

async function powerCuts(
  t: TestContext,
  count: number,
  options: { readonly ignoreFsync: boolean; readonly stopAtFirstLoss: boolean },
): Promise<Outcome> {
  const random = seededRandom(seed);
  const dir = await mkdtemp(join(tmpdir(), 'mailfleet-power-'));
  const backing = join(dir, 'disk');
  const mountpoint = join(dir, 'mnt');
  const configDir = join(dir, 'config');
  await Promise.all([mkdir(backing), mkdir(mountpoint), mkdir(configDir)]);
  // Each run of cuts starts without a spool: the relay creates it on lazyfs, so its directories
  // must become durable too (openSpool syncs them before the first 250).
  const spoolDir = join(backing, 'spool');
  const checkedBefore = new Set<string>();
  let lastRecovered = new Set<string>();
  const config = relayOnSpool(join(mountpoint, 'spool'));
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
  let recovered = 0;
  let recoveredInFiles = 0;
  let recoveredEarlier = 0;
  let recoveredInFilesEarlier = 0;
  let lost = 0;
  let firstLossAt: number | undefined;
  let done = 0;
  const started = Date.now();
  try {
    for (let cut = 0; cut < count; cut += 1) {
      if (cut % cutsPerSpool === 0) {
        recoveredEarlier += recovered;
        recoveredInFilesEarlier += recoveredInFiles;
        recovered = 0;
        recoveredInFiles = 0;
        // What the old spool held, not what was acknowledged: a 250 read after the kill came from it.
        for (const id of lastRecovered) checkedBefore.add(id);
        await rm(spoolDir, { recursive: true, force: true });
      }
      mount = await mountLazyFs(backing, mountpoint, { ignoreFsync: options.ignoreFsync });
      relay = await startRelayProcess(config, configDir);
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
      const missing = [...load.acknowledged.keys()].filter((id) => !queued.has(id) && !checkedBefore.has(id));
      if (onDisk)
        assert.deepEqual(await partialFiles(spoolDir), [], `cut ${cut}: a recovered message is not whole`);
      recovered = queued.size;
      recoveredInFiles = onDisk ? (await spoolFiles(spoolDir, '.msg')).length : 0;
      lost = missing.length;
      if (lost > 0) {
        firstLossAt ??= cut;
        if (options.stopAtFirstLoss) break;
        assert.deepEqual(missing, [], `cut ${cut}: acknowledged, not in the recovered spool`);
      }
    }
  } finally {
    port = undefined;
    if (relay !== undefined) await killHard(relay);
    if (mount !== undefined) await mount.cut();
    await load.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const outcome: Outcome = {
    cuts: done,
    seconds: (Date.now() - started) / 1000,
    attempted: load.attempted(),
    acknowledged: load.acknowledged.size,
    recovered: recoveredEarlier + recovered,
    recoveredInFiles: recoveredInFilesEarlier + recoveredInFiles,
    lost,
    firstLossAt,
  };
  t.diagnostic(JSON.stringify(outcome));
  return outcome;
}

test(
  `${cuts} power cuts under load lose no acknowledged message`,
  { timeout: cuts * 8000 + 180_000 },
  async (t) => {
    t.diagnostic(`seed ${seed} (MAILFLEET_POWER_SEED), cuts ${cuts} (MAILFLEET_POWER_CUTS)`);
    const outcome = await powerCuts(t, cuts, { ignoreFsync: false, stopAtFirstLoss: false });
    assert.equal(outcome.lost, 0);
    assert.ok(outcome.acknowledged >= cuts, `load kept flowing (${outcome.acknowledged} acknowledged)`);
  },
);

test('negative control: with fsync ignored by lazyfs, power cuts lose acknowledged mail', async (t) => {
  const outcome = await powerCuts(t, 3, { ignoreFsync: true, stopAtFirstLoss: true });
  assert.ok(outcome.lost > 0, `the control lost ${outcome.lost} of ${outcome.acknowledged} acknowledged`);
});
