// Case 19 under load: clients keep sending through the relay process while it is killed with -9 at
// random moments and restarted over the same spool, MAILFLEET_SOAK_CYCLES times (make soak: hundreds).
// The next hop is Postfix's smtp-sink. Every message answered 250 must arrive; a message arrives more
// than once only when a kill caught it delivered but not yet recorded ("in flight").
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import { numberFrom, seededRandom, seedFrom } from '../../support/seeded-random.ts';
import { startSmtpSink } from '../../support/smtp-sink.ts';
import { killHard, relayToNextHop } from './relay-to-next-hop.ts';
import { pause, startSmtpLoad } from './smtp-load.ts';
import { queuedMessageIds, SinkTally } from './spool-files.ts';

const cycles = numberFrom('MAILFLEET_SOAK_CYCLES', 50);
const seed = seedFrom('MAILFLEET_SOAK_SEED');
const maxRunMs = numberFrom('MAILFLEET_SOAK_MAX_RUN_MS', 700);
const maxConcurrentDeliveries = 8;

/** Waits until smtp-sink has written out what a dead relay had already sent it. */
async function settle(tally: SinkTally): Promise<ReadonlyMap<string, number>> {
  let before = await tally.refresh();
  let total = sum(before);
  for (let round = 0; round < 50; round += 1) {
    await pause(60);
    const after = await tally.refresh();
    if (sum(after) === total && (await tally.partialCount()) === 0) return after;
    before = after;
    total = sum(after);
  }
  return before;
}

function sum(copies: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const count of copies.values()) total += count;
  return total;
}

test(
  `case 19: ${cycles} kill -9 cycles under load lose no acknowledged message; duplicates only from messages in flight`,
  { timeout: cycles * 5000 + 180_000 },
  async (t) => {
    const random = seededRandom(seed);
    t.diagnostic(`seed ${seed} (MAILFLEET_SOAK_SEED), cycles ${cycles} (MAILFLEET_SOAK_CYCLES)`);
    const sink = await startSmtpSink();
    const dir = await mkdtemp(join(tmpdir(), 'mailfleet-soak-'));
    const spoolDir = join(dir, 'spool');
    const tally = new SinkTally(sink.dumpDir);
    const config = relayToNextHop(sink.port, {
      delivery: {
        maxConcurrentDeliveries,
        concurrencyPerDestination: 4,
        retryMaxSeconds: 2,
        connectTimeoutSeconds: 2,
      },
    });
    let port: number | undefined;
    const load = startSmtpLoad({
      port: () => port,
      sessions: 4,
      bodyBytes: 2048,
      tag: `soak${seed}`,
      recipient: 'sink@x.test',
    });
    // Copies per Message-ID at the previous snapshot: a copy is charged to the kill it preceded.
    let copiesBefore: ReadonlyMap<string, number> = new Map();
    const inFlightPerKill: number[] = [];
    let relay: RelayProcess | undefined;
    const started = Date.now();
    try {
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        relay = await startRelayProcess(config, dir);
        port = relay.smtpPorts['smtp'];
        await pause(random.chance(0.1) ? 0 : random.int(50, maxRunMs));
        await killHard(relay);
        port = undefined;
        const copies = new Map(await settle(tally));
        const queuedIds = new Set(await queuedMessageIds(spoolDir));
        let inFlight = 0;
        for (const messageId of queuedIds) {
          if ((copies.get(messageId) ?? 0) > (copiesBefore.get(messageId) ?? 0)) inFlight += 1;
        }
        inFlightPerKill.push(inFlight);
        copiesBefore = copies;
        const missing = [...load.acknowledged.keys()].filter((id) => !queuedIds.has(id) && !copies.has(id));
        assert.deepEqual(missing, [], `cycle ${cycle}: acknowledged, neither queued nor delivered`);
        assert.ok(
          inFlight <= maxConcurrentDeliveries,
          `cycle ${cycle}: ${inFlight} delivered-but-unrecorded messages, more than can be in flight`,
        );
      }
      const killedFor = Date.now() - started;
      await load.stop();

      relay = await startRelayProcess(config, dir);
      const deadline = Date.now() + 120_000;
      let copies = await tally.refresh();
      while (
        [...load.acknowledged.keys()].some((id) => !copies.has(id)) ||
        (await queuedMessageIds(spoolDir)).length > 0
      ) {
        assert.ok(Date.now() < deadline, 'the queue drains to the sink within 120 s of the last restart');
        await pause(200);
        copies = await tally.refresh();
      }
      const lost = [...load.acknowledged.keys()].filter((id) => !copies.has(id));
      const duplicates = sum(copies) - copies.size;
      const inFlightTotal = inFlightPerKill.reduce((total, count) => total + count, 0);
      const ownDuplicates = [...copies.keys()].filter((id) => !id.includes(`soak${seed}-`));
      t.diagnostic(
        `cycles ${cycles} in ${(killedFor / 1000).toFixed(1)} s; attempted ${load.attempted()}, ` +
          `acknowledged ${load.acknowledged.size}, delivered ${copies.size} unique (${sum(copies)} copies), ` +
          `duplicates ${duplicates}, in flight at kills ${inFlightTotal} (max ${Math.max(...inFlightPerKill)} at one kill), ` +
          `delivered without a 250 seen ${copies.size - load.acknowledged.size}, lost ${lost.length}`,
      );
      assert.deepEqual(lost, [], 'every acknowledged message reached the sink');
      assert.deepEqual(ownDuplicates, [], 'the sink saw only this test’s messages');
      assert.ok(
        load.acknowledged.size >= cycles,
        `load kept flowing (${load.acknowledged.size} acknowledged)`,
      );
      assert.ok(
        duplicates <= inFlightTotal,
        `${duplicates} duplicates, but only ${inFlightTotal} messages were in flight at the kills`,
      );
    } finally {
      await load.stop();
      if (relay !== undefined) await relay.stop(5000);
      await sink.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
