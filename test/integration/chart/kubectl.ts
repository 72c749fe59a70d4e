// kubectl of the test control plane, run on the chart's rendered manifests, and a cluster-scoped
// clean-up for what the chart creates outside its namespace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

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
