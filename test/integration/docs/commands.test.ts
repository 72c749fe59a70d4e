// The shell blocks of the docs that need a cluster with mailfleet's objects, run as written against
// the real API server: KUBECONFIG points at a private namespace the operator (in process, both
// controllers) manages, kubectl is the control plane's, and the blocks run in the order a reader
// meets them (install.md applies the examples, dns.md reads the records the operator published).
// DNS verification asks 127.0.0.1:9, where nothing answers: no query leaves the machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunningOperator } from '../../../operator/main.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { blocks, repoRoot, shellBlocks } from '../../unit/docs/command-blocks.ts';
import { startInProcessOperator } from '../operator-kube/in-process-operator.ts';
import { clientFor, eventually, privateNamespace } from '../operator-kube/support.ts';

const run = promisify(execFile);
const { kubeconfigPath, binDir } = sharedControlPlane();
let namespace: { name: string; remove(): Promise<void> };
let operator: RunningOperator;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  namespace = await privateNamespace(clientFor(kubeconfigPath), 'docs');
  dir = await mkdtemp(join(tmpdir(), 'mailfleet-docs-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await copyFile(kubeconfigPath, kubeconfig);
  env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${binDir}:${process.env['PATH'] ?? ''}` };
  await run('kubectl', ['config', 'set-context', '--current', `--namespace=${namespace.name}`], { env });
  operator = await startInProcessOperator({
    kubeconfigPath,
    namespace: namespace.name,
    flags: ['--dns-resolver=127.0.0.1:9'],
    name: 'docs-test',
  });
});

after(async () => {
  await operator.stop();
  await namespace.remove();
  await rm(dir, { recursive: true, force: true });
});

const found = await shellBlocks();
// install.md first: it creates what the other blocks read.
const readingOrder = (key: string): number => (key.startsWith('docs/install.md') ? 0 : 1);
const onControlPlane = Object.entries(blocks)
  .filter(([, entry]) => entry.runs && entry.where === 'control plane')
  .sort(([a], [b]) => readingOrder(a) - readingOrder(b));

test('the docs have blocks that run against the control plane', () => {
  assert.ok(onControlPlane.length >= 3);
});

for (const [key, entry] of onControlPlane) {
  if (!entry.runs) continue;
  test(`runs: ${key}`, async () => {
    const body = found.get(key);
    assert.ok(body !== undefined, key);
    // What a reader waits for between the blocks: the operator publishing the records.
    let stdout = '';
    await eventually(`${key} prints ${String(entry.prints)}`, async () => {
      stdout = (await run('bash', ['-euo', 'pipefail', '-c', body], { cwd: repoRoot, env })).stdout;
      return entry.prints.test(stdout);
    });
    assert.match(stdout, entry.prints);
  });
}
