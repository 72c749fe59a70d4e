import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeTime, nextStatus, sameStatus, type ObjectStatus } from '../../../operator/kube/status-diff.ts';

const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const t1 = t0 + 60_000;

const current: ObjectStatus = {
  observedGeneration: 1,
  readyReplicas: 2,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Ok',
      message: 'ready',
      lastTransitionTime: kubeTime(t0),
      observedGeneration: 1,
    },
    {
      type: 'Degraded',
      status: 'False',
      reason: 'Ok',
      message: '',
      lastTransitionTime: kubeTime(t0),
      observedGeneration: 1,
    },
  ],
};

test('kubeTime is RFC 3339 to the second', () => {
  assert.equal(kubeTime(t0 + 999), '2026-01-01T00:00:00Z');
});

test('an unchanged condition keeps its transition time; a changed one gets now; generation is set', () => {
  const next = nextStatus(
    current,
    {
      readyReplicas: 2,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'SecretMissing', message: 'secret ns/tls key tls.crt' },
        { type: 'Degraded', status: 'False', reason: 'Ok', message: '' },
      ],
    },
    2,
    t1,
  );
  assert.equal(next.observedGeneration, 2);
  const conditions = next.conditions ?? [];
  assert.equal(conditions[0]?.lastTransitionTime, kubeTime(t1));
  assert.equal(conditions[1]?.lastTransitionTime, kubeTime(t0));
  assert.deepEqual(
    conditions.map((condition) => condition.observedGeneration),
    [2, 2],
  );
});

test('sameStatus ignores condition order and key order, nothing else', () => {
  const reordered: ObjectStatus = {
    conditions: [...(current.conditions ?? [])].reverse(),
    readyReplicas: 2,
    observedGeneration: 1,
  };
  const table: [string, ObjectStatus | undefined, ObjectStatus | undefined, boolean][] = [
    ['identical', current, structuredClone(current), true],
    ['conditions reordered', current, reordered, true],
    ['generation differs', current, { ...current, observedGeneration: 2 }, false],
    ['field differs', current, { ...current, readyReplicas: 3 }, false],
    ['no status yet', undefined, current, false],
    ['both empty', undefined, {}, true],
  ];
  for (const [name, a, b, expected] of table) assert.equal(sameStatus(a, b), expected, name);
});

test('recomputing the same status on the next reconcile is no change', () => {
  const desired = {
    readyReplicas: 2,
    conditions: [
      { type: 'Ready', status: 'True' as const, reason: 'Ok', message: 'ready' },
      { type: 'Degraded', status: 'False' as const, reason: 'Ok', message: '' },
    ],
  };
  const first = nextStatus(undefined, desired, 1, t0);
  const second = nextStatus(first, desired, 1, t1);
  assert.equal(sameStatus(first, second), true);
});
