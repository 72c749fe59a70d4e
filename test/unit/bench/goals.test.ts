import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeGoals, type GoalFigures } from '../../../bench/goals.ts';

const measuredEverywhere: GoalFigures = {
  title: (id) => id,
  delivered: (id, relay) => (relay === 'postfix' ? 500 : id === 'large-100k' ? 900 : 1600),
  cpuPerMessage: (_id, relay) => (relay === 'postfix' ? 2.4 : 0.8),
  mailfleetP50Ms: () => 1.4,
  mailfleetIdleRssBytes: 140e6,
};

test('each goal is judged from the figures: ratio to Postfix, p50, idle RSS', () => {
  const judged = judgeGoals(measuredEverywhere);
  assert.deepEqual(
    judged.map((goal) => [goal.measured, goal.met]),
    [
      ['3.20×', true],
      ['3.20×', true],
      ['3.20×', true],
      ['1.80×', false],
      ['1.4 ms', true],
      ['140.0 MB', true],
    ],
  );
  assert.equal(judged[0]?.cpuAdvantage?.toFixed(2), '3.00');
  assert.match(judged[3]?.goal ?? '', /large-100k: delivered msg\/s at least 2× Postfix's/);
});

test('a goal at its bound exactly: throughput meets it, latency and memory do not', () => {
  const judged = judgeGoals({
    ...measuredEverywhere,
    delivered: (_id, relay) => (relay === 'postfix' ? 100 : 300),
    mailfleetP50Ms: () => 5,
    mailfleetIdleRssBytes: 150e6,
  });
  assert.deepEqual(
    judged.map((goal) => goal.met),
    [true, true, true, true, false, false],
  );
});

test('without figures a goal is not measured, never met', () => {
  const judged = judgeGoals({
    title: (id) => id,
    delivered: (_id, relay) => (relay === 'postfix' ? 500 : undefined),
    cpuPerMessage: () => undefined,
    mailfleetP50Ms: () => undefined,
    mailfleetIdleRssBytes: undefined,
  });
  for (const goal of judged) {
    assert.equal(goal.met, undefined);
    assert.equal(goal.measured, 'not measured');
    assert.equal(goal.cpuAdvantage, undefined);
  }
});
