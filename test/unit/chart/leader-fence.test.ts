// The chart's leader fence (templates/leader-fence.yaml): a ValidatingAdmissionPolicy whose
// parameter is the operator's Lease, matching only the operator's ServiceAccount and leaving out its
// Lease and the reviews every replica makes; its refusal begins with the text the operator's client
// turns into NotLeadingError (operator/kube/fence.ts). What the API server does with it is judged in
// test/integration/operator-kube/fenced-leadership.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiServerFenceRefusal } from '../../../operator/kube/fence.ts';
import { only, render, type Manifest } from './helm.ts';

interface Policy {
  spec: {
    failurePolicy: string;
    paramKind: { apiVersion: string; kind: string };
    matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
    matchConditions: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string; reason: string }[];
  };
}

interface Binding {
  spec: {
    policyName: string;
    validationActions: string[];
    paramRef: { name: string; namespace: string; parameterNotFoundAction: string };
  };
}

const fenceKinds = (manifests: readonly Manifest[]) =>
  manifests.filter((manifest) => manifest.kind.startsWith('ValidatingAdmissionPolicy'));

const fenceOn = 'operator.leaderElection.apiServerFence=true';

test('switched on: the policy matches the operator ServiceAccount writes and takes the release Lease', async () => {
  const manifests = await render({ release: 'mail', namespace: 'mail-ops', set: [fenceOn] });
  const policy = only(manifests, 'ValidatingAdmissionPolicy') as Manifest & Policy;
  const binding = only(manifests, 'ValidatingAdmissionPolicyBinding') as Manifest & Binding;
  assert.equal(policy.metadata.name, 'mail-mailfleet-leader-fence');
  assert.equal(policy.spec.failurePolicy, 'Fail');
  assert.deepEqual(policy.spec.paramKind, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
  const [rule] = policy.spec.matchConstraints.resourceRules;
  assert.ok(rule);
  assert.deepEqual(rule.operations, ['CREATE', 'UPDATE', 'DELETE']);
  assert.deepEqual(rule.resources, ['*/*']);
  const conditions = Object.fromEntries(policy.spec.matchConditions.map((c) => [c.name, c.expression]));
  assert.equal(
    conditions['the-operator'],
    "request.userInfo.username == 'system:serviceaccount:mail-ops:mail-mailfleet'",
  );
  assert.match(
    conditions['not-its-lease'] ?? '',
    /request\.namespace == 'mail-ops' && request\.name == 'mail-mailfleet'/,
  );
  assert.match(conditions['not-a-review'] ?? '', /authentication\.k8s\.io', 'authorization\.k8s\.io/);
  const [validation] = policy.spec.validations;
  assert.ok(validation);
  assert.equal(validation.reason, 'Forbidden');
  assert.ok(
    validation.messageExpression.startsWith(`'${apiServerFenceRefusal}: '`),
    `the refusal begins with what the operator's client recognises: ${validation.messageExpression}`,
  );
  assert.deepEqual(binding.spec, {
    policyName: 'mail-mailfleet-leader-fence',
    validationActions: ['Deny'],
    paramRef: { name: 'mail-mailfleet', namespace: 'mail-ops', parameterNotFoundAction: 'Allow' },
  });
});

test('the policy follows serviceAccount.name and leaderElection.leaseName', async () => {
  const manifests = await render({
    release: 'mail',
    namespace: 'ops',
    set: [fenceOn, 'serviceAccount.name=sender', 'operator.leaderElection.leaseName=the-lease'],
  });
  const policy = only(manifests, 'ValidatingAdmissionPolicy') as Manifest & Policy;
  const binding = only(manifests, 'ValidatingAdmissionPolicyBinding') as Manifest & Binding;
  assert.match(policy.spec.matchConditions[0]?.expression ?? '', /'system:serviceaccount:ops:sender'$/);
  assert.match(policy.spec.matchConditions[1]?.expression ?? '', /request\.name == 'the-lease'\)$/);
  assert.equal(binding.spec.paramRef.name, 'the-lease');
});

test('no fence by default (kubernetes/kubernetes#130887, docs/operator.md), nor without leader election', async () => {
  assert.deepEqual(fenceKinds(await render()), []);
  const withoutElection = await render({
    set: [fenceOn, 'operator.replicas=1', 'operator.leaderElection.enabled=false'],
  });
  assert.deepEqual(fenceKinds(withoutElection), []);
});
