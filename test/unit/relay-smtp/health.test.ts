import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReady, type Phase } from '../../../relay/health.ts';

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
