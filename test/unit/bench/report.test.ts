import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunFigures } from '../../../bench/measure.ts';
import type { BenchReport } from '../../../bench/report.ts';
import { renderBenchmarks, scenarioMedians } from '../../../bench/report.ts';
import { benchPlan, focusPlan } from '../../../bench/scenarios.ts';

function run(acceptedPerSecond: number, overrides: Partial<RunFigures> = {}): RunFigures {
  return {
    accepted: 100,
    delivered: 100,
    sendSeconds: 100 / acceptedPerSecond,
    endToEndSeconds: 100 / acceptedPerSecond + 0.5,
    acceptedPerSecond,
    deliveredPerSecond: acceptedPerSecond / 2,
    latencyP50Ms: 4,
    latencyP99Ms: 40,
    latencySamples: 10,
    cpuSeconds: 1,
    peakMemory: { peakRssBytes: 64 * 1024 * 1024, peakPssBytes: 32 * 1024 * 1024, peakProcesses: 3 },
    failures: [],
    ...overrides,
  };
}

const plan = benchPlan(false);
const scenario = plan.scenarios[0] ?? assert.fail('the plan has scenarios');

function report(overrides: Partial<BenchReport>): BenchReport {
  return {
    machine: {
      processors: 2,
      cpuModel: 'cpu',
      memoryBytes: 2 ** 34,
      kernel: '6.1',
      nodeVersion: 'v24.21.0',
      postfixVersion: '3.7.11',
      commit: 'abc1234',
      loadAverageAtStart: [0.5, 0.4, 0.3],
    },
    command: 'make bench',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationSeconds: 600,
    loadAverageAtEnd: [1, 1, 1],
    plan,
    mailfleet: { runnable: false, reason: 'relay/main.ts does not exist' },
    scenarios: [{ scenario, runs: { ceiling: [run(3000)], postfix: [run(500), run(400), run(450)] } }],
    idleSessions: {},
    backlog: { mailfleet: { notMeasured: 'the relay is not runnable' } },
    ...overrides,
  };
}

test('scenarioMedians takes the median of every figure and totals the counts', () => {
  const medians = scenarioMedians([run(500), run(400, { failures: ['x'] }), run(450)]);
  assert.equal(medians.acceptedPerSecond, 450);
  assert.equal(medians.drainSeconds, 0.5);
  assert.equal(medians.cpuMillisecondsPerMessage, 10);
  assert.equal(medians.peakPssMiB, 32);
  assert.deepEqual([medians.accepted, medians.delivered, medians.failures, medians.runs], [300, 300, 1, 3]);
});

test('a relay that does not run is said plainly, with no mailfleet figures or ratios', () => {
  const markdown = renderBenchmarks(report({}));
  assert.match(markdown, /mailfleet relay: not runnable at abc1234\*\* \(relay\/main\.ts does not exist\)/);
  assert.doesNotMatch(markdown, /\| mailfleet \|/);
  assert.doesNotMatch(markdown, /mailfleet \/ Postfix/);
  assert.match(markdown, /\| Postfix \| 450 \|/);
  assert.match(markdown, /mailfleet: not measured — the relay is not runnable/);
});

test('with mailfleet measured the table has its row and the ratio to Postfix', () => {
  const markdown = renderBenchmarks(
    report({
      mailfleet: { runnable: true },
      scenarios: [{ scenario, runs: { postfix: [run(400)], mailfleet: [run(800)] } }],
    }),
  );
  assert.match(markdown, /mailfleet relay: measured at abc1234/);
  assert.match(markdown, /\| mailfleet \| 800 \|/);
  assert.match(markdown, /\| \*\*mailfleet \/ Postfix\*\* \| 2\.00× \|/);
});

test('the goals section judges what was measured and says "not measured" for the rest', () => {
  const markdown = renderBenchmarks(
    report({
      mailfleet: { runnable: true },
      scenarios: [{ scenario, runs: { postfix: [run(400)], mailfleet: [run(1600)] } }],
    }),
  );
  assert.match(markdown, /## Goals/);
  assert.match(
    markdown,
    /\| 2 KB, 20 sessions, new connection per message: delivered msg\/s at least 3× Postfix's \| 4\.00× \| yes \| 1\.00× \|/,
  );
  assert.match(markdown, /\| 1,000 idle sessions: RSS under 150 MB \| not measured \| not measured \| {2}\|/);
});

test('focusPlan keeps the scenarios named, sets the repeats, and refuses unknown ids', () => {
  const full = benchPlan(false);
  const focused = focusPlan(full, ['new-connection-2k'], 15);
  assert.equal(focused.focused, true);
  assert.equal(focused.repeats, 15);
  assert.deepEqual(
    focused.scenarios.map((scenario) => scenario.id),
    ['new-connection-2k'],
  );
  assert.deepEqual(focusPlan(full, undefined, undefined), full);
  assert.deepEqual(focusPlan(full, undefined, 7).scenarios, full.scenarios);
  assert.equal(focusPlan(full, undefined, 7).focused, false);
  assert.throws(
    () => focusPlan(full, ['no-such'], undefined),
    /BENCH_SCENARIOS: no scenario no-such \(there are: new-connection-2k, /,
  );
  assert.throws(
    () => focusPlan(full, undefined, 0),
    /BENCH_REPEATS: expected a whole number of at least 1, got 0/,
  );
  assert.throws(() => focusPlan(full, undefined, Number('x')), /BENCH_REPEATS/);
});

test('a focused report says what it left out', () => {
  const focused = focusPlan(plan, ['new-connection-2k'], 2);
  const text = renderBenchmarks(
    report({
      plan: focused,
      idleSessions: {},
      backlog: { postfix: { notMeasured: 'focused' }, mailfleet: { notMeasured: 'focused' } },
    }),
  );
  assert.match(text, /Each figure is the median of 2 run\(s\)/);
  assert.match(text, /Postfix: not measured — focused/);
});
