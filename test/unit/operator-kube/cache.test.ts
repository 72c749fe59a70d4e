import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatSelector,
  matchesSelector,
  type LabelSelector,
} from '../../../operator/kube/label-selector.ts';
import { controllerKeyOf, controllerReference } from '../../../operator/kube/owner.ts';
import { formatKey, keyOf, parseKey, type KubeObject } from '../../../operator/kube/resource.ts';
import { Store } from '../../../operator/kube/store.ts';

test('label selectors match like the apiserver and format to its query syntax', () => {
  const labels = { app: 'relay', tier: 'edge' };
  const table: [LabelSelector, boolean, string][] = [
    [{}, true, ''],
    [{ matchLabels: { app: 'relay' } }, true, 'app=relay'],
    [{ matchLabels: { app: 'other' } }, false, 'app=other'],
    [
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge', 'core'] }] },
      true,
      'tier in (edge,core)',
    ],
    [
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge'] }] },
      false,
      'tier notin (edge)',
    ],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true, 'zone notin (a)'],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true, 'app'],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false, '!app'],
    [
      { matchLabels: { app: 'relay' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
      false,
      'app=relay,zone',
    ],
  ];
  for (const [selector, expected, query] of table) {
    assert.equal(matchesSelector(labels, selector), expected, query);
    assert.equal(formatSelector(selector), query);
  }
});

test('keys are namespace/name, or name alone for cluster-scoped objects', () => {
  assert.equal(formatKey({ namespace: 'ns', name: 'a' }), 'ns/a');
  assert.equal(formatKey({ namespace: '', name: 'a' }), 'a');
  assert.deepEqual(parseKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(parseKey('a'), { namespace: '', name: 'a' });
  assert.equal(keyOf({ metadata: { namespace: 'ns', name: 'a' } }), 'ns/a');
});

interface Relay extends KubeObject {
  spec?: { secrets?: string[] };
}

const relay = (
  namespace: string,
  name: string,
  secrets: string[],
  labels: Record<string, string> = {},
): Relay => ({
  metadata: { namespace, name, labels },
  spec: { secrets },
});

test('the store lists by namespace and selector and keeps indexes in step with updates and removals', () => {
  const store = new Store<Relay>();
  store.upsert(relay('a', 'one', ['tls']));
  store.addIndex('secret', (object) =>
    (object.spec?.secrets ?? []).map((secret) => `${object.metadata?.namespace ?? ''}/${secret}`),
  );
  store.upsert(relay('a', 'two', ['tls', 'dkim'], { tier: 'edge' }));
  store.upsert(relay('b', 'three', ['tls']));
  const names = (objects: Relay[]) => objects.map((object) => keyOf(object)).sort();
  assert.deepEqual(names(store.byIndex('secret', 'a/tls')), ['a/one', 'a/two']);
  assert.deepEqual(names(store.list({ namespace: 'a' })), ['a/one', 'a/two']);
  assert.deepEqual(names(store.list({ selector: { matchLabels: { tier: 'edge' } } })), ['a/two']);

  store.upsert(relay('a', 'two', ['dkim']));
  assert.deepEqual(names(store.byIndex('secret', 'a/tls')), ['a/one']);
  assert.deepEqual(names(store.byIndex('secret', 'a/dkim')), ['a/two']);
  assert.equal(store.remove('a/one')?.metadata?.name, 'one');
  assert.deepEqual(store.byIndex('secret', 'a/tls'), []);
  assert.equal(store.remove('a/one'), undefined);
  assert.throws(() => store.byIndex('nope', 'x'), /no index named nope/);
  assert.throws(() => {
    store.addIndex('secret', () => []);
  }, /index secret is already defined/);
});

test('controller references carry controller and blockOwnerDeletion; a missing uid is named', () => {
  const owner = {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    metadata: { name: 'r', namespace: 'ns', uid: 'u-1' },
  };
  assert.deepEqual(controllerReference(owner), {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SmtpRelay',
    name: 'r',
    uid: 'u-1',
    controller: true,
    blockOwnerDeletion: true,
  });
  assert.throws(
    () => controllerReference({ ...owner, metadata: { name: 'r', namespace: 'ns' } }),
    /needs metadata\.uid .*ns\/r/,
  );
  const owned = { metadata: { namespace: 'ns', name: 'cm', ownerReferences: [controllerReference(owner)] } };
  assert.equal(controllerKeyOf(owned, 'SmtpRelay'), 'ns/r');
  assert.equal(controllerKeyOf(owned, 'SenderDomain'), undefined);
  assert.equal(controllerKeyOf({ metadata: { name: 'x' } }, 'SmtpRelay'), undefined);
});
