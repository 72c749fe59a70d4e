// The install guide's Helm commands against the shared control plane: install with --skip-crds (the
// test harness installed the CRDs; Helm 4 would server-side apply its copies over them and conflict
// with the harness's field manager, see docs/install.md), upgrade with a changed value, uninstall (which removes every
// object of the release, cluster-scoped ones included, and keeps the CRDs). No pod runs here (no
// kubelet), so nothing waits for readiness.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { chartDir, helm } from '../../unit/chart/helm.ts';
import { kubectl, kubectlOk } from './kubectl.ts';

const controlPlane = sharedControlPlane();
const namespace = `chart-install-${randomBytes(3).toString('hex')}`;
const release = 'mailfleet';
const kubeconfig = `--kubeconfig=${controlPlane.kubeconfigPath}`;
after(() => kubectl(controlPlane, ['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']));

interface Deployment {
  spec: { template: { spec: { containers: { args: string[] }[] } } };
}

async function operatorArgs(): Promise<string[]> {
  const json = await kubectlOk(controlPlane, [
    '-n',
    namespace,
    'get',
    'deployment',
    `${namespace}-${release}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(json) as Deployment).spec.template.spec.containers[0]?.args ?? [];
}

test('helm install, upgrade and uninstall as docs/install.md shows them', async () => {
  // The release name is the namespace so that cluster-scoped names do not collide with other tests.
  const install = await helm([
    'install',
    namespace,
    chartDir,
    kubeconfig,
    '--namespace',
    namespace,
    '--create-namespace',
    '--skip-crds',
  ]);
  assert.match(install, /STATUS: deployed/);
  assert.match(install, /rollout status deployment\//, 'NOTES.txt is shown');
  assert.ok((await operatorArgs()).includes('--log-level=info'));

  const upgrade = await helm([
    'upgrade',
    namespace,
    chartDir,
    kubeconfig,
    '--namespace',
    namespace,
    '--reuse-values',
    '--set',
    'operator.logLevel=debug',
  ]);
  assert.match(upgrade, /STATUS: deployed/);
  assert.ok((await operatorArgs()).includes('--log-level=debug'));

  await helm(['uninstall', namespace, kubeconfig, '--namespace', namespace, '--wait']);
  const clusterRole = await kubectl(controlPlane, ['get', 'clusterrole', `${namespace}-${release}`]);
  assert.notEqual(clusterRole.code, 0, 'the ClusterRole went with the release');
  await kubectlOk(controlPlane, ['get', 'crd', 'smtprelays.mailfleet.dev', 'senderdomains.mailfleet.dev']);
});
