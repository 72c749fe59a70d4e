// Server-side apply, the status writer and the event recorder against the real apiserver, with the
// client's write counter proving that nothing is written when nothing changed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Applier, appliedHashAnnotation, fieldManager } from '../../../operator/kube/apply.ts';
import { systemClock } from '../../../operator/kube/clock.ts';
import { EventRecorder } from '../../../operator/kube/events.ts';
import { controllerReference } from '../../../operator/kube/owner.ts';
import {
  coreResources,
  collectionPath,
  objectPath,
  type KubeObject,
} from '../../../operator/kube/resource.ts';
import { StatusWriter, type WithStatus } from '../../../operator/kube/status.ts';
import { silentLog } from '../../../operator/log.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { clientFor, privateNamespace } from './support.ts';
import { installWidgetCrd, removeWidgetCrd, widgetResourceIn } from './test-crd.ts';

const { kubeconfigPath } = sharedControlPlane();
const admin = clientFor(kubeconfigPath);
const widgetResource = widgetResourceIn('status');
let namespace: Awaited<ReturnType<typeof privateNamespace>>;

before(async () => {
  namespace = await privateNamespace(admin, 'apply');
  await installWidgetCrd(admin, widgetResource);
});
after(async () => {
  await namespace.remove();
  await removeWidgetCrd(admin, widgetResource);
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function createOwner(name: string): Promise<ConfigMap> {
  return admin.request<ConfigMap>({
    verb: 'create',
    path: collectionPath(coreResources.configMap, namespace.name),
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: namespace.name } },
  });
}

test('apply creates, updates in place, restores drift, and writes nothing when nothing changed', async () => {
  const client = clientFor(kubeconfigPath);
  const applier = new Applier(client);
  const owner = await createOwner('owner');
  const desired = (data: Record<string, string>): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'owned', namespace: namespace.name, ownerReferences: [controllerReference(owner)] },
    data,
  });

  const created = await applier.apply(coreResources.configMap, desired({ a: '1', b: '2' }));
  assert.equal(created.written, true);
  assert.equal(client.writes, 1);
  const createdMeta = created.object.metadata ?? {};
  assert.deepEqual(createdMeta.ownerReferences, [controllerReference(owner)]);
  assert.ok(createdMeta.annotations?.[appliedHashAnnotation]);
  const managers = (createdMeta.managedFields ?? []) as {
    manager?: string;
    operation?: string;
  }[];
  assert.ok(managers.some((entry) => entry.manager === fieldManager && entry.operation === 'Apply'));

  for (let round = 0; round < 3; round += 1) {
    const again = await applier.apply(coreResources.configMap, desired({ a: '1', b: '2' }));
    assert.equal(again.written, false);
  }
  const unchangedFromCache = await applier.apply(coreResources.configMap, desired({ a: '1', b: '2' }), {
    live: created.object,
  });
  assert.equal(unchangedFromCache.written, false);
  assert.equal(client.writes, 1, 'no write while nothing changed');

  const updated = await applier.apply(coreResources.configMap, desired({ a: '1' }));
  assert.equal(updated.written, true);
  assert.equal(updated.object.metadata?.uid, createdMeta.uid, 'updated in place');
  assert.deepEqual(updated.object.data, { a: '1' }, 'the field no longer desired is removed');

  await admin.request({
    verb: 'patch',
    path: objectPath(coreResources.configMap, { namespace: namespace.name, name: 'owned' }),
    contentType: 'application/merge-patch+json',
    body: { data: { a: 'edited by hand' } },
  });
  const restored = await applier.apply(coreResources.configMap, desired({ a: '1' }));
  assert.equal(restored.written, true);
  assert.deepEqual(restored.object.data, { a: '1' });
  assert.equal(client.writes, 3);
});

test('the status writer writes only on change, sets observedGeneration and keeps transition times', async () => {
  const client = clientFor(kubeconfigPath);
  const writer = new StatusWriter(client, systemClock);
  const widgetPath = objectPath(widgetResource, { namespace: namespace.name, name: 'w' });
  const read = () => client.request<WithStatus>({ verb: 'get', path: widgetPath });
  await admin.request({
    verb: 'create',
    path: collectionPath(widgetResource, namespace.name),
    body: {
      apiVersion: `${widgetResource.group}/v1`,
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { size: 1 },
    },
  });
  const ready = { type: 'Ready', status: 'True' as const, reason: 'Rendered', message: 'all good' };
  const writesBefore = client.writes;

  assert.equal(await writer.write(widgetResource, await read(), { conditions: [ready], replicas: 1 }), true);
  const first = await read();
  const firstStatus = first.status ?? {};
  assert.equal(firstStatus.observedGeneration, 1);
  const transitioned = firstStatus.conditions?.[0]?.lastTransitionTime;
  assert.ok(transitioned);
  assert.equal(await writer.write(widgetResource, first, { conditions: [ready], replicas: 1 }), false);
  assert.equal(await writer.write(widgetResource, first, { replicas: 1, conditions: [ready] }), false);
  assert.equal(client.writes, writesBefore + 1, 'one write for two unchanged recomputations');

  await admin.request({
    verb: 'patch',
    path: widgetPath,
    contentType: 'application/merge-patch+json',
    body: { spec: { size: 2 } },
  });
  const bumped = await read();
  assert.equal(bumped.metadata?.generation, 2);
  assert.equal(await writer.write(widgetResource, bumped, { conditions: [ready], replicas: 1 }), true);
  const second = await read();
  const secondStatus = second.status ?? {};
  const [secondReady] = secondStatus.conditions ?? [];
  assert.equal(secondStatus.observedGeneration, 2);
  assert.deepEqual(
    [secondReady?.lastTransitionTime, secondReady?.observedGeneration],
    [transitioned, 2],
    'an unchanged condition keeps its time and carries the new generation',
  );
});

test('a repeated event increments the count of one Event instead of creating more', async () => {
  const client = clientFor(kubeconfigPath);
  const recorder = new EventRecorder({
    client,
    clock: systemClock,
    log: silentLog(),
    component: 'mailfleet-operator',
    instance: 'test',
  });
  const involved = await createOwner('noisy');
  await recorder.record(involved, 'Warning', 'SecretMissing', 'Secret ns/tls has no key tls.crt');
  await Promise.all(
    [1, 2].map(() =>
      recorder.record(involved, 'Warning', 'SecretMissing', 'Secret ns/tls has no key tls.crt'),
    ),
  );
  await Promise.all(
    [1, 2].map(() => recorder.record(involved, 'Warning', 'Concurrent', 'two at once from the start')),
  );
  await recorder.record(involved, 'Normal', 'Rendered', 'relay configuration rendered');
  const list = await client.request<{
    items: { reason: string; count: number; type: string; involvedObject: { uid: string } }[];
  }>({
    verb: 'list',
    path: collectionPath(coreResources.event, namespace.name),
  });
  const ours = list.items.filter((event) => event.involvedObject.uid === involved.metadata?.uid);
  assert.deepEqual(ours.map((event) => [event.type, event.reason, event.count]).sort(), [
    ['Normal', 'Rendered', 1],
    ['Warning', 'Concurrent', 2],
    ['Warning', 'SecretMissing', 3],
  ]);
});
