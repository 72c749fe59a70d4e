// A QUICK run of one benchmark scenario against a real Postfix and smtp-sink: the harness's counts
// must add up (every message accepted was delivered, none invented).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runScenarioOnce } from '../../../bench/measure.ts';
import type { RelayUnderTest } from '../../../bench/measure.ts';
import { startPostfix } from '../../../bench/postfix.ts';
import { isRunning, processTree } from '../../../bench/process-tree.ts';
import { benchPlan } from '../../../bench/scenarios.ts';
import { startSmtpSink } from '../../../bench/smtp-sink.ts';

const scenario = benchPlan(true).scenarios.find((candidate) => candidate.id === 'new-connection-2k');

test('one quick scenario through the ceiling and through Postfix delivers exactly what was accepted', async (t) => {
  assert.ok(scenario, 'the quick plan has the new-connection-2k scenario');
  const ceilingSink = await startSmtpSink();
  t.after(() => ceilingSink.stop());
  const postfixSink = await startSmtpSink();
  t.after(() => postfixSink.stop());
  const postfix = await startPostfix({ nextHopPort: postfixSink.port });
  t.after(() => postfix.stop());

  const relays: [RelayUnderTest, typeof ceilingSink][] = [
    [{ name: 'ceiling', port: ceilingSink.port }, ceilingSink],
    [{ name: 'postfix', port: postfix.port, rootPid: postfix.masterPid }, postfixSink],
  ];
  for (const [relay, sink] of relays) {
    const figures = await runScenarioOnce(relay, scenario, sink);
    assert.deepEqual(figures.failures, [], relay.name);
    assert.equal(figures.accepted, scenario.messages + figures.latencySamples, relay.name);
    assert.equal(figures.delivered, figures.accepted, relay.name);
    assert.equal(sink.delivered(), figures.delivered, `${relay.name}: the sink counted nothing else`);
    assert.ok(figures.latencyP50Ms !== undefined && figures.latencyP99Ms !== undefined, relay.name);
    if (relay.rootPid !== undefined) {
      assert.ok((figures.cpuSeconds ?? 0) > 0, 'Postfix used CPU for the run');
      assert.ok((figures.peakMemory?.peakPssBytes ?? 0) > 0, 'Postfix memory was sampled');
    }
  }
  assert.equal(await postfix.queuedFiles(), 0, 'Postfix queue is empty after the drain');
});

test('stopping Postfix ends every process it started and removes its directory', async () => {
  const sink = await startSmtpSink();
  try {
    const postfix = await startPostfix({ nextHopPort: sink.port });
    // master forks pickup and qmgr on its own time: on a busy machine they come a moment later.
    let daemons = await processTree(postfix.masterPid);
    for (let tries = 0; daemons.length < 3 && tries < 100; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      daemons = await processTree(postfix.masterPid);
    }
    assert.ok(daemons.length >= 3, `master, pickup and qmgr run (${daemons.length} processes)`);
    await postfix.stop();
    assert.equal(existsSync(postfix.directory), false);
    for (const daemon of daemons)
      assert.equal(await isRunning(daemon.pid), false, `pid ${daemon.pid} stopped`);
  } finally {
    await sink.stop();
  }
});
