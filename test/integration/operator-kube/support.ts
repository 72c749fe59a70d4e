// Shared helpers of the operator-kube integration tests: a client on a control plane, a private
// namespace per test, and polling until the apiserver has caught up.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../operator/kube/client.ts';
import { coreResources, objectPath, collectionPath } from '../../../operator/kube/resource.ts';

export function clientFor(kubeconfigPath: string): KubeClient {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return new KubeClient(config);
}

/** Creates a namespace with a unique name; the returned function deletes it. */
export async function privateNamespace(
  client: KubeClient,
  prefix: string,
): Promise<{ name: string; remove(): Promise<void> }> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await client.request({
    verb: 'create',
    path: collectionPath(coreResources.namespace),
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  return {
    name,
    async remove() {
      await client
        .request({ verb: 'delete', path: objectPath(coreResources.namespace, { namespace: '', name }) })
        .catch(() => undefined);
    },
  };
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
}
