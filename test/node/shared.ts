// How the one real cluster of a test run reaches each test file (node --test runs every file in a
// process of its own): through an environment variable that test/with-cluster.ts sets.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ClusterAccess } from './cluster.ts';

const run = promisify(execFile);

export function exportCluster(cluster: ClusterAccess): Record<string, string> {
  const access: ClusterAccess = {
    kubeconfigPath: cluster.kubeconfigPath,
    kubectlPath: cluster.kubectlPath,
    nodeBinDir: cluster.nodeBinDir,
    images: cluster.images,
  };
  return { KUBECONFIG: cluster.kubeconfigPath, MAILFLEET_TEST_CLUSTER: JSON.stringify(access) };
}

/** The run's cluster; fails clearly when a test is run without test/with-cluster.ts. */
export function sharedCluster(): ClusterAccess {
  const json = process.env['MAILFLEET_TEST_CLUSTER'];
  if (!json)
    throw new Error(
      'no cluster: run real-node tests through `make test-node` (node test/with-cluster.ts -- ...)',
    );
  return JSON.parse(json) as ClusterAccess;
}

/** kubectl against the cluster; rejects with kubectl's stderr in the message when it fails. */
export async function kubectl(
  cluster: ClusterAccess,
  args: readonly string[],
  input?: string,
): Promise<string> {
  const child = run(cluster.kubectlPath, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args], {
    maxBuffer: 64 << 20,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    return (await child).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || String(error)}\n${stdout}`, {
      cause: error,
    });
  }
}

/** Polls until check() holds, or fails naming what was awaited and the last error seen. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    await sleep(500);
  }
  throw new Error(`${what}: not reached in ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`);
}
