// Tests that need a cluster of their own, on one private control plane started without any CRD:
// 1. the first install as a user does it: Helm installs the CRDs from the chart's crds/ directory,
//    then the operator's objects; the upgrade of docs/install.md (CRDs with kubectl, then helm
//    upgrade) works over it; the project's examples are accepted;
// 2. the full-values file (with a ServiceMonitor) passes a server-side dry run, once stand-ins for
//    the Prometheus Operator's CRDs are installed (the shared control plane is left without them).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installCrds, startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import {
  chartDir,
  fullValuesPath,
  helm,
  parseManifests,
  renderText,
  repoRoot,
} from '../../unit/chart/helm.ts';
import { dryRunAccepted, kubectlOk, restrictPodSecurity, restrictedNamespace } from './kubectl.ts';

const noCrds = await mkdtemp(join(tmpdir(), 'mailfleet-no-crds-'));
let controlPlane: ControlPlane;
before(async () => {
  controlPlane = await startControlPlane({ crdDir: noCrds });
});
after(async () => {
  await controlPlane.stop();
  await rm(noCrds, { recursive: true, force: true });
});

test('helm install on a cluster without the CRDs installs them, the documented upgrade works, the examples are accepted', async () => {
  const crds = ['smtprelays.mailfleet.dev', 'senderdomains.mailfleet.dev'];
  assert.equal((await kubectlOk(controlPlane, ['get', 'crd', '-o', 'name'])).trim(), '');

  const output = await helm([
    'install',
    'mailfleet',
    chartDir,
    `--kubeconfig=${controlPlane.kubeconfigPath}`,
    '--namespace',
    'mailfleet-system',
    '--create-namespace',
  ]);
  assert.match(output, /STATUS: deployed/);
  await kubectlOk(controlPlane, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crds.map((c) => `crd/${c}`),
  ]);

  // docs/install.md's upgrade: the CRDs first (taken over from Helm's field manager), then the release.
  await kubectlOk(controlPlane, [
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(chartDir, 'crds'),
  ]);
  const upgrade = await helm([
    'upgrade',
    'mailfleet',
    chartDir,
    `--kubeconfig=${controlPlane.kubeconfigPath}`,
    '--namespace',
    'mailfleet-system',
    '--reuse-values',
  ]);
  assert.match(upgrade, /REVISION: 2/);

  const examples = ['senderdomain.yaml', 'smtprelay-minimal.yaml'].map((file) =>
    join(repoRoot, 'examples', file),
  );
  const accepted = await kubectlOk(controlPlane, [
    'apply',
    '--server-side',
    '--dry-run=server',
    '--namespace=default',
    ...examples.flatMap((file) => ['-f', file]),
  ]);
  assert.match(accepted, /smtprelay\.mailfleet\.dev\/\S+ serverside-applied \(server dry run\)/);
  assert.match(accepted, /senderdomain\.mailfleet\.dev\/\S+ serverside-applied \(server dry run\)/);
});

test('the chart with the full-values file passes a server-side dry run', async () => {
  await installCrds(controlPlane, join(import.meta.dirname, 'fixtures'));
  await kubectlOk(controlPlane, [
    'create',
    'namespace',
    'mailfleet-system',
    '--dry-run=client',
    '-o',
    'yaml',
  ]).then((namespace) => kubectlOk(controlPlane, ['apply', '--server-side', '-f', '-'], namespace));
  await restrictPodSecurity(controlPlane, 'mailfleet-system');
  // The watched namespaces and grafanaDashboards.namespace of the full-values file.
  for (const namespace of ['mail-a', 'mail-b', 'monitoring'])
    await restrictedNamespace(controlPlane, namespace);
  const manifests = await renderText({
    release: 'full',
    valuesFiles: [fullValuesPath],
    includeCrds: true,
    includeTests: true,
  });
  for (const kind of ['ServiceMonitor', 'PrometheusRule', 'Pod'])
    assert.ok(
      parseManifests(manifests).some((manifest) => manifest.kind === kind),
      kind,
    );
  await dryRunAccepted(controlPlane, manifests);
});
