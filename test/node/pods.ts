// Pods of the real node as the tests handle them: their state from the API, the eviction API, and
// killing a container's process on the node (SIGKILL, no graceful shutdown) through the CRI.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterAccess } from './cluster.ts';
import { containerdSocket } from './layout.ts';
import { kubectl } from './shared.ts';

const run = promisify(execFile);

export interface PodView {
  readonly metadata: { readonly name: string; readonly uid: string; readonly deletionTimestamp?: string };
  readonly status: {
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
    readonly containerStatuses?: readonly { readonly restartCount: number; readonly image: string }[];
  };
  readonly spec: {
    readonly containers: readonly {
      readonly image: string;
      readonly env?: readonly { readonly name: string; readonly value?: string }[];
    }[];
  };
}

export async function pods(cluster: ClusterAccess, namespace: string, selector: string): Promise<PodView[]> {
  const out = await kubectl(cluster, ['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodView[] }).items;
}

export const isReady = (pod: PodView): boolean =>
  !pod.metadata.deletionTimestamp &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Asks the eviction API to evict a pod; resolves with the HTTP outcome as kubectl reports it. */
export async function evict(
  cluster: ClusterAccess,
  namespace: string,
  pod: string,
): Promise<{ ok: boolean; message: string }> {
  const eviction = JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod, namespace },
  });
  try {
    await kubectl(
      cluster,
      ['create', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, '-f', '-'],
      eviction,
    );
    return { ok: true, message: '' };
  } catch (error) {
    return { ok: false, message: String(error) };
  }
}

/** SIGKILLs the main process of a pod's container on the node: a crash, not a graceful stop. */
export async function killContainer(cluster: ClusterAccess, namespace: string, pod: string): Promise<void> {
  const crictl = (args: string[]) =>
    run(join(cluster.nodeBinDir, 'crictl'), ['--runtime-endpoint', `unix://${containerdSocket}`, ...args]);
  const ids = (
    await crictl(['ps', '-q', '--namespace', namespace, '--pod', await podId(crictl, namespace, pod)])
  ).stdout
    .trim()
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) throw new Error(`no running container in pod ${namespace}/${pod}`);
  for (const id of ids) {
    const info = JSON.parse((await crictl(['inspect', id])).stdout) as { info: { pid: number } };
    process.kill(info.info.pid, 'SIGKILL');
  }
}

async function podId(
  crictl: (args: string[]) => Promise<{ stdout: string }>,
  namespace: string,
  pod: string,
): Promise<string> {
  const id = (
    await crictl(['pods', '-q', '--namespace', namespace, '--name', `^${pod}$`, '--state', 'ready'])
  ).stdout.trim();
  if (!id) throw new Error(`no ready sandbox for pod ${namespace}/${pod}`);
  return id.split('\n')[0] ?? '';
}
