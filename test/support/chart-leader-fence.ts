// The chart's leader fence (charts/mailfleet/templates/leader-fence.yaml), rendered by `helm
// template` for an operator with the given ServiceAccount and Lease, and created on a test API server
// (strict field validation). The tests judge it by what the API server then admits and refuses: the
// type check that would report a mistyped field in its status runs in kube-controller-manager, which
// these control planes do not run, and a broken expression refuses every write it matches
// (failurePolicy: Fail).
import assert from 'node:assert/strict';
import { parseManifests, renderText } from '../unit/chart/helm.ts';
import { kubeRequest } from './control-plane.ts';

interface Target {
  readonly server: string;
  readonly caPath: string;
  readonly adminToken: string;
}

const collection = {
  ValidatingAdmissionPolicy: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
} as const;

/** Creates the policy and its binding; returns the policy's name. */
export async function installChartLeaderFence(
  target: Target,
  fence: { readonly namespace: string; readonly serviceAccount: string; readonly leaseName: string },
): Promise<string> {
  const manifests = parseManifests(
    await renderText({
      release: fence.namespace,
      namespace: fence.namespace,
      set: [
        'operator.leaderElection.apiServerFence=true',
        'serviceAccount.create=false',
        `serviceAccount.name=${fence.serviceAccount}`,
        `operator.leaderElection.leaseName=${fence.leaseName}`,
      ],
    }),
  ).filter((manifest) => manifest.kind in collection);
  assert.deepEqual(
    manifests.map((manifest) => manifest.kind),
    ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
  );
  for (const manifest of manifests) {
    const response = await kubeRequest(
      target,
      'POST',
      `${collection[manifest.kind as keyof typeof collection]}?fieldValidation=Strict`,
      { contentType: 'application/json', body: JSON.stringify(manifest) },
    );
    assert.equal(response.status, 201, `create ${manifest.kind}: ${response.body}`);
  }
  return manifests[0]?.metadata.name ?? '';
}
