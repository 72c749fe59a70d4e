import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyNeeded, appliedHashAnnotation, withAppliedHash } from '../../../operator/kube/apply.ts';
import { canonicalJson, contentHash, isSubset } from '../../../operator/kube/object-compare.ts';
import type { KubeObject } from '../../../operator/kube/resource.ts';

test('isSubset: desired fields must be in live with the same value; server additions do not count', () => {
  const table: [string, unknown, unknown, boolean][] = [
    ['equal scalars', 'a', 'a', true],
    ['different scalars', 1, 2, false],
    ['number is not string', 1, '1', false],
    ['extra live field', { a: 1 }, { a: 1, b: 2 }, true],
    ['missing live field', { a: 1, b: 2 }, { a: 1 }, false],
    [
      'nested default added',
      { spec: { c: [{ name: 'x' }] } },
      { spec: { c: [{ name: 'x', policy: 'y' }] } },
      true,
    ],
    ['array length differs', { c: [1, 2] }, { c: [1, 2, 3] }, false],
    ['array order differs', { c: [1, 2] }, { c: [2, 1] }, false],
    ['null means absent', { a: null }, {}, true],
    ['null but present', { a: null }, { a: 1 }, false],
    ['empty map not stored', { data: {} }, {}, true],
    ['empty list not stored', { spec: { c: [] } }, { spec: {} }, true],
    ['empty map vs scalar', { a: {} }, { a: 'x' }, false],
    ['object vs array', { a: {} }, { a: [] }, false],
    ['object vs scalar', { a: { b: 1 } }, { a: 'x' }, false],
  ];
  for (const [name, desired, live, expected] of table) assert.equal(isSubset(desired, live), expected, name);
});

test('canonical JSON and the content hash ignore key order', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } }),
    '{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}',
  );
  assert.equal(contentHash({ a: 1, b: 2 }), contentHash({ b: 2, a: 1 }));
  assert.notEqual(contentHash({ a: 1 }), contentHash({ a: 2 }));
});

const desired: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'ns', labels: { app: 'relay' } },
  data: { key: 'value' },
};

test('the applied hash is stable, ignores a stale hash annotation and does not touch the input', () => {
  const hashed = withAppliedHash(desired);
  const hash = hashed.metadata?.annotations?.[appliedHashAnnotation];
  assert.match(hash ?? '', /^[0-9a-f]{32}$/);
  assert.deepEqual(withAppliedHash(hashed), hashed);
  assert.equal(desired.metadata?.annotations, undefined);
  const changed = withAppliedHash({ ...desired, data: { key: 'other' } });
  assert.notEqual(changed.metadata?.annotations?.[appliedHashAnnotation], hash);
});

test('applyNeeded: absent, changed desired, drifted live, or unchanged', () => {
  const hashed = withAppliedHash(desired);
  const live = {
    ...hashed,
    metadata: { ...hashed.metadata, uid: 'u', resourceVersion: '7', managedFields: [] },
  };
  const table: [string, KubeObject | undefined, KubeObject, boolean][] = [
    ['no live object', undefined, hashed, true],
    ['unchanged', live, hashed, false],
    ['desired changed', live, withAppliedHash({ ...desired, data: { key: 'new' } }), true],
    ['desired dropped a field', live, withAppliedHash({ ...desired, data: {} }), true],
    ['live drifted', { ...live, data: { key: 'edited by hand' } }, hashed, true],
    ['hash annotation removed', { ...live, metadata: { ...live.metadata, annotations: {} } }, hashed, true],
  ];
  for (const [name, current, wanted, expected] of table)
    assert.equal(applyNeeded(wanted, current), expected, name);
});
