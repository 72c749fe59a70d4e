// The informer against the shared apiserver: the cache and handlers follow adds, updates and
// deletes; label selectors and indexes answer from the cache; a 410 from an expired
// resourceVersion makes it relist without losing a change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../../../operator/kube/clock.ts';
import { Informer } from '../../../operator/kube/informer.ts';
import {
  coreResources,
  collectionPath,
  objectPath,
  type KubeObject,
} from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { clientFor, eventually, privateNamespace } from './support.ts';

const client = clientFor(sharedControlPlane().kubeconfigPath);
let namespace: Awaited<ReturnType<typeof privateNamespace>>;

before(async () => {
  namespace = await privateNamespace(client, 'informer');
});
after(async () => {
  await namespace.remove();
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

function configMap(
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: namespace.name, labels }, data };
}

async function create(object: ConfigMap): Promise<void> {
  await client.request({
    verb: 'create',
    path: collectionPath(coreResources.configMap, namespace.name),
    body: object,
  });
}

test('the cache and handlers follow adds, updates and deletes, with selectors and indexes', async () => {
  await create(configMap('before-start', { a: '1' }, { tier: 'relay' }));
  const informer = new Informer<ConfigMap>({
    client,
    resource: coreResources.configMap,
    namespace: namespace.name,
    clock: systemClock,
    log: silentLog(),
  });
  informer.store.addIndex('by-data-key', (object) => Object.keys(object.data ?? {}));
  const seen: string[] = [];
  informer.addHandlers({
    added: (object) => seen.push(`added ${object.metadata?.name ?? ''}`),
    updated: (_previous, current) =>
      seen.push(`updated ${current.metadata?.name ?? ''} ${current.data?.['a'] ?? ''}`),
    deleted: (object) => seen.push(`deleted ${object.metadata?.name ?? ''}`),
  });
  informer.start();
  try {
    await informer.waitForSync();
    assert.deepEqual(seen, ['added before-start']);
    assert.equal(informer.store.get(`${namespace.name}/before-start`)?.data?.['a'], '1');

    await create(configMap('after-start', { b: '2' }, { tier: 'other' }));
    await client.request({
      verb: 'patch',
      path: objectPath(coreResources.configMap, { namespace: namespace.name, name: 'before-start' }),
      contentType: 'application/merge-patch+json',
      body: { data: { a: '3' } },
    });
    await eventually(
      'the update reaches the cache',
      () => informer.store.get(`${namespace.name}/before-start`)?.data?.['a'] === '3',
    );
    await eventually(
      'after-start is cached',
      () => informer.store.get(`${namespace.name}/after-start`) !== undefined,
    );

    const relays = informer.store.list({
      namespace: namespace.name,
      selector: { matchLabels: { tier: 'relay' } },
    });
    assert.deepEqual(
      relays.map((object) => object.metadata?.name),
      ['before-start'],
    );
    assert.deepEqual(informer.store.list({ namespace: 'elsewhere' }), []);
    assert.deepEqual(
      informer.store.byIndex('by-data-key', 'b').map((object) => object.metadata?.name),
      ['after-start'],
    );
    assert.equal(informer.store.get(`${namespace.name}/before-start`)?.kind, 'ConfigMap');

    await client.request({
      verb: 'delete',
      path: objectPath(coreResources.configMap, { namespace: namespace.name, name: 'after-start' }),
    });
    await eventually(
      'the delete reaches the cache',
      () => informer.store.get(`${namespace.name}/after-start`) === undefined,
    );
    assert.deepEqual(informer.store.byIndex('by-data-key', 'b'), []);
    assert.deepEqual(seen, [
      'added before-start',
      'added after-start',
      'updated before-start 3',
      'deleted after-start',
    ]);
  } finally {
    await informer.stop();
  }
});

test('the list is read page by page', async () => {
  for (const name of ['page-a', 'page-b', 'page-c']) await create(configMap(name, {}, { paged: 'yes' }));
  const client = clientFor(sharedControlPlane().kubeconfigPath);
  let lists = 0;
  client.onRequest((verb) => {
    if (verb === 'list') lists += 1;
  });
  const informer = new Informer<ConfigMap>({
    client,
    resource: coreResources.configMap,
    namespace: namespace.name,
    labelSelector: 'paged=yes',
    pageSize: 1,
    clock: systemClock,
    log: silentLog(),
  });
  informer.start();
  try {
    await informer.waitForSync();
    assert.deepEqual(
      informer.store.keys().sort(),
      ['page-a', 'page-b', 'page-c'].map((name) => `${namespace.name}/${name}`),
    );
    assert.equal(lists, 3, 'one list request per page of one');
  } finally {
    await informer.stop();
  }
});
