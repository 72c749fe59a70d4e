// The informer outlives its apiserver: with a private control plane, the apiserver is stopped (the
// watch fails, reconnects are retried with backoff), etcd is compacted meanwhile so the informer's
// resourceVersion is gone, and the apiserver is started again: the informer gets a 410, relists,
// and the cache matches the server, including a change made while it was reconnecting.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { systemClock } from '../../../operator/kube/clock.ts';
import { Informer } from '../../../operator/kube/informer.ts';
import { coreResources, collectionPath, type KubeObject } from '../../../operator/kube/resource.ts';
import { silentLog } from '../../../operator/log.ts';
import { startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { clientFor, eventually } from './support.ts';

let controlPlane: ControlPlane;

before(async () => {
  controlPlane = await startControlPlane();
});
after(async () => {
  await controlPlane.stop();
});

/** The client URL of this control plane's etcd, read from its command line. */
async function etcdClientUrl(dataDir: string): Promise<string> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const args = (await readFile(join('/proc', pid, 'cmdline'), 'utf8').catch(() => '')).split('\0');
    if (!args.includes(`--data-dir=${dataDir}`)) continue;
    const flag = args.find((arg) => arg.startsWith('--listen-client-urls='));
    if (flag) return flag.slice('--listen-client-urls='.length);
  }
  throw new Error(`no etcd process with --data-dir=${dataDir}`);
}

/** Compacts etcd at its current revision: every older resourceVersion is gone. */
async function compactEtcd(url: string): Promise<void> {
  const range = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }) });
  const { header } = (await range.json()) as { header: { revision: string } };
  const compaction = await fetch(`${url}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: header.revision, physical: true }),
  });
  assert.equal(compaction.status, 200, await compaction.text());
}

test('the informer survives an apiserver restart and relists after a 410', async () => {
  const client = clientFor(controlPlane.kubeconfigPath);
  const create = (name: string) =>
    client.request({
      verb: 'create',
      path: collectionPath(coreResources.configMap, 'default'),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } },
    });
  const informer = new Informer<KubeObject>({
    client,
    resource: coreResources.configMap,
    namespace: 'default',
    clock: systemClock,
    log: silentLog(),
    backoff: { baseMs: 100, capMs: 1_000 },
  });
  informer.start();
  try {
    await informer.waitForSync();
    await create('before-restart');
    await eventually(
      'before-restart is cached',
      () => informer.store.get('default/before-restart') !== undefined,
    );
    const listsBeforeRestart = informer.relists;

    await controlPlane.stopApiServer();
    await compactEtcd(await etcdClientUrl(join(controlPlane.dir, 'etcd')));
    await controlPlane.startApiServer();
    await create('after-restart');

    await eventually(
      'after-restart is cached',
      () => informer.store.get('default/after-restart') !== undefined,
      60_000,
    );
    assert.ok(informer.store.get('default/before-restart'));
    assert.ok(
      informer.relists > listsBeforeRestart,
      `the 410 made the informer relist (lists: ${informer.relists})`,
    );
  } finally {
    await informer.stop();
  }
});
