// The rendered chart with default values (and its CRDs) is accepted by the shared kube-apiserver:
// server-side apply with a server dry run (every object is defaulted, validated and admitted,
// nothing is stored). The full-values file is dry-run in private-cluster.test.ts, on a cluster that
// has stand-ins for the Prometheus Operator's CRDs.
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { renderText } from '../../unit/chart/helm.ts';
import { dryRunAccepted, restrictedNamespace } from './kubectl.ts';

const target = sharedControlPlane();
const namespace = `chart-dry-run-${randomBytes(3).toString('hex')}`;
let removeNamespace: (() => Promise<unknown>) | undefined;
after(() => removeNamespace?.());

test('the chart with default values (and its CRDs) passes a server-side dry run', async () => {
  removeNamespace = await restrictedNamespace(target, namespace);
  await dryRunAccepted(target, await renderText({ release: namespace, namespace, includeCrds: true }));
});
