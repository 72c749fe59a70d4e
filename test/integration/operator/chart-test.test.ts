// operator/chart-test/main.ts (what `helm test` runs in the cluster) against the real API server and
// an operator started in process with plain metrics: passes when the CRDs are established and the
// operator answers; fails, naming the CRD, when one is missing, and when nothing answers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../unit/chart/helm.ts';
import {
  admin,
  kubeconfigPath,
  privateNamespace,
  startRelayOperator,
  type OperatorUnderTest,
} from './smtp-relay-support.ts';

const run = promisify(execFile);
const script = join(repoRoot, 'operator', 'chart-test', 'main.ts');
let running: OperatorUnderTest;
let namespace: { name: string; remove(): Promise<void> };

before(async () => {
  namespace = await privateNamespace(admin, 'chart-test');
  running = await startRelayOperator(namespace.name);
});

after(async () => {
  await running.operator.stop();
  await namespace.remove();
});

async function chartTest(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [script, `--kubeconfig=${kubeconfigPath}`, ...args]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const crds = '--crds=smtprelays.mailfleet.dev,senderdomains.mailfleet.dev';

test('helm test passes: the CRDs are established and the operator answers', async () => {
  const result = await chartTest(
    crds,
    `--metrics-url=http://127.0.0.1:${String(running.operator.httpPort)}/metrics`,
    '--metrics-secure=false',
  );
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /ok: CRD smtprelays\.mailfleet\.dev is established/);
  assert.match(result.output, /ok: the operator answers/);
});

test('helm test fails naming a CRD that is not installed', async () => {
  const result = await chartTest('--crds=relays.mailfleet.dev');
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /CRD relays\.mailfleet\.dev is not installed/);
});

test('helm test fails when nothing answers on the metrics URL', async () => {
  const result = await chartTest('--metrics-url=http://127.0.0.1:9/metrics', '--metrics-secure=false');
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /the operator does not answer at http:\/\/127\.0\.0\.1:9\/metrics/);
});
