import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createReadinessMetric, isReady, type HealthState, type Phase } from '../../../relay/readiness.ts';

const cases: [Phase, boolean, boolean][] = [
  ['starting', true, false],
  ['serving', true, true],
  ['serving', false, false],
  ['draining', true, false],
];

for (const [phase, hasSpace, ready] of cases) {
  test(`readiness: ${phase}, ${hasSpace ? 'disk space' : 'disk full'} → ${ready ? 'ready' : 'not ready'}`, () => {
    assert.equal(
      isReady({ phase }, () => hasSpace),
      ready,
    );
  });
}

test('mailfleet_relay_ready follows readiness at each scrape', async () => {
  const registry = new Registry();
  const state: HealthState = { phase: 'starting' };
  let hasSpace = true;
  createReadinessMetric(registry, state, () => hasSpace);
  const scrapes: string[] = [];
  for (const step of [() => undefined, () => (state.phase = 'serving'), () => (hasSpace = false)]) {
    step();
    scrapes.push(await registry.metrics());
  }
  assert.deepEqual(
    scrapes.map((text) => /^mailfleet_relay_ready (\d)$/m.exec(text)?.[1]),
    ['0', '1', '0'],
  );
});
