// kubectl of a test control plane, run on the chart's rendered manifests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseManifests } from '../../unit/chart/helm.ts';

export interface KubectlTarget {
  readonly kubeconfigPath: string;
  readonly binDir: string;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function kubectl(target: KubectlTarget, args: readonly string[], input = ''): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(target.binDir, 'kubectl'),
      [`--kubeconfig=${target.kubeconfigPath}`, ...args],
      { maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (code === -1) reject(error ?? new Error('kubectl did not start'));
        else resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/** Runs kubectl and fails with its stderr unless it exits 0. */
export async function kubectlOk(target: KubectlTarget, args: readonly string[], input = ''): Promise<string> {
  const result = await kubectl(target, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Server-side apply of a multi-document YAML, as a server-side dry run (nothing is stored) or for real. */
export async function serverSideApply(
  target: KubectlTarget,
  manifests: string,
  mode: 'dry-run' | 'apply',
): Promise<KubectlResult> {
  const args = [
    'apply',
    '--server-side',
    '--field-manager=mailfleet-chart-test',
    // The test harness installed the CRDs with its own field manager: a dry run may take them over.
    ...(mode === 'dry-run' ? ['--dry-run=server', '--force-conflicts'] : []),
    '-f',
    '-',
  ];
  const result = await kubectl(target, args, manifests);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

/**
 * Dry-runs the rendering and checks the server took every object without a warning: namespaces
 * made by restrictedNamespace warn about pods that would break the "restricted" Pod Security
 * Standard, so the operator's pod template is checked against it too.
 */
export async function dryRunAccepted(target: KubectlTarget, manifests: string): Promise<void> {
  const { stdout, stderr } = await serverSideApply(target, manifests, 'dry-run');
  const applied = stdout.split('\n').filter((line) => line.endsWith('serverside-applied (server dry run)'));
  assert.equal(applied.length, parseManifests(manifests).length, stdout);
  assert.doesNotMatch(stderr, /warning/i);
}

/** Labels a namespace to enforce and warn on the "restricted" Pod Security Standard. */
export async function restrictPodSecurity(target: KubectlTarget, namespace: string): Promise<void> {
  await kubectlOk(target, [
    'label',
    'namespace',
    namespace,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
}

/** Creates a namespace under the restricted Pod Security Standard; returns how to delete it. */
export async function restrictedNamespace(
  target: KubectlTarget,
  namespace: string,
): Promise<() => Promise<unknown>> {
  await kubectlOk(target, ['create', 'namespace', namespace]);
  await restrictPodSecurity(target, namespace);
  return () => kubectl(target, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
}
