// The rendered chart is accepted by a real kube-apiserver: server-side apply with a server dry run
// (every object is defaulted, validated and admitted, nothing is stored). Default values on the
// test run's shared control plane; the full-values file (with a ServiceMonitor) on a private one
// that also has stand-ins for the Prometheus Operator's CRDs, so the shared one stays as it is.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startControlPlane } from '../../support/control-plane.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { fullValuesPath, parseManifests, renderText, repoRoot } from '../../unit/chart/helm.ts';
import { kubectlOk, serverSideApply, type KubectlTarget } from './kubectl.ts';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * Dry-runs the rendering and checks the server took every object without a warning: the namespaces
 * warn about pods that would break the "restricted" Pod Security Standard, so the operator's pod
 * template is checked against it too.
 */
async function dryRun(target: KubectlTarget, manifests: string): Promise<void> {
  const { stdout, stderr } = await serverSideApply(target, manifests, 'dry-run');
  const applied = stdout.split('\n').filter((line) => line.endsWith('serverside-applied (server dry run)'));
  assert.equal(applied.length, parseManifests(manifests).length, stdout);
  assert.doesNotMatch(stderr, /warning/i);
}

async function createNamespace(target: KubectlTarget, name: string): Promise<void> {
  await kubectlOk(target, ['create', 'namespace', name]);
  cleanups.push(() => kubectlOk(target, ['delete', 'namespace', name, '--wait=false']));
  await kubectlOk(target, [
    'label',
    'namespace',
    name,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
}

test('the chart with default values (and its CRDs) passes a server-side dry run', async () => {
  const target = sharedControlPlane();
  const namespace = `chart-dry-run-${randomBytes(3).toString('hex')}`;
  await createNamespace(target, namespace);
  await dryRun(target, await renderText({ release: namespace, namespace, includeCrds: true }));
});

test('the chart with the full-values file passes a server-side dry run', async () => {
  const crdDir = await mkdtemp(join(tmpdir(), 'mailfleet-chart-crds-'));
  cleanups.push(() => rm(crdDir, { recursive: true, force: true }));
  for (const file of (await readdir(join(repoRoot, 'crds'))).filter((name) => name.endsWith('.yaml'))) {
    await copyFile(join(repoRoot, 'crds', file), join(crdDir, file));
  }
  await copyFile(
    join(import.meta.dirname, 'fixtures', 'monitoring-crds.yaml'),
    join(crdDir, 'monitoring.yaml'),
  );
  const controlPlane = await startControlPlane({ crdDir });
  cleanups.push(() => controlPlane.stop());
  for (const namespace of ['mailfleet-system', 'mail-a', 'mail-b']) {
    await createNamespace(controlPlane, namespace);
  }
  const manifests = await renderText({ release: 'full', valuesFiles: [fullValuesPath], includeCrds: true });
  assert.ok(parseManifests(manifests).some((manifest) => manifest.kind === 'ServiceMonitor'));
  await dryRun(controlPlane, manifests);
});
