// The first install on a cluster without the CRDs, as a user does it: Helm installs the CRDs from
// the chart's crds/ directory, then the operator's objects; afterwards the examples of the project
// are accepted by the apiserver (server dry run). A private control plane started without CRDs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { chartDir, helm, repoRoot } from '../../unit/chart/helm.ts';
import { kubectlOk } from './kubectl.ts';

const noCrds = await mkdtemp(join(tmpdir(), 'mailfleet-no-crds-'));
let controlPlane: ControlPlane | undefined;
after(async () => {
  await controlPlane?.stop();
  await rm(noCrds, { recursive: true, force: true });
});

test('helm install on a cluster without the CRDs installs them, and the examples are accepted', async () => {
  controlPlane = await startControlPlane({ crdDir: noCrds });
  const crds = ['smtprelays.mailfleet.dev', 'senderdomains.mailfleet.dev'];
  const before = await kubectlOk(controlPlane, ['get', 'crd', '-o', 'name']);
  assert.equal(before.trim(), '');

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
