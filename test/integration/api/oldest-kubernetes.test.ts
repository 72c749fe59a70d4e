// The oldest Kubernetes the docs claim (docs/install.md, the chart's kubeVersion): a kube-apiserver
// of that release (test/controlplane/build-oldest-apiserver.sh) takes the CRDs of crds/ — their
// CEL rules use the IP and CIDR library (isCIDR, cidr()), which an apiserver admits in new rules
// from 1.31 on — serves every example, and its CEL rules refuse what they should; and the chart's
// leader fence (a ValidatingAdmissionPolicy) is admitted and refuses as on the current release.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { groupVersion } from '../../../operator/api/crd.ts';
import { installChartLeaderFence } from '../../support/chart-leader-fence.ts';
import { kubeRequest, startControlPlane, type ControlPlane } from '../../support/control-plane.ts';
import { createServiceAccount, podBoundToken } from '../../support/service-account-tokens.ts';
import { changed } from './invalid-cases.ts';
import type { Json, StatusBody } from './support.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
const oldestSupported = { major: '1', minor: '31' };
const chartKubeVersion = `>=${oldestSupported.major}.${oldestSupported.minor}.0-0`;

let controlPlane: ControlPlane;
before(async () => {
  const { stdout } = await promisify(execFile)('bash', [
    join(repoRoot, 'test/controlplane/build-oldest-apiserver.sh'),
  ]);
  controlPlane = await startControlPlane({ apiServerBinDir: stdout.trim() });
});
after(() => controlPlane.stop());

async function applyExample(object: Json) {
  const { kind, metadata } = object as { kind: string; metadata: { name: string } };
  const path = `/apis/${groupVersion}/namespaces/default/${kind.toLowerCase()}s/${metadata.name}`;
  return kubeRequest(
    controlPlane,
    'PATCH',
    `${path}?fieldManager=oldest-kubernetes-test&fieldValidation=Strict`,
    {
      body: JSON.stringify(object),
      contentType: 'application/apply-patch+yaml',
    },
  );
}

async function example(file: string): Promise<Json> {
  return parse(await readFile(join(repoRoot, 'examples', file), 'utf8')) as Json;
}

test('the docs and the chart claim the release this test runs', async () => {
  const version = JSON.parse((await kubeRequest(controlPlane, 'GET', '/version')).body) as Record<
    string,
    string
  >;
  assert.deepEqual([version['major'], version['minor']], [oldestSupported.major, oldestSupported.minor]);
  const chart = parse(await readFile(join(repoRoot, 'charts/mailfleet/Chart.yaml'), 'utf8')) as Json;
  assert.equal(chart['kubeVersion'], chartKubeVersion);
  const install = await readFile(join(repoRoot, 'docs/install.md'), 'utf8');
  assert.match(
    install,
    new RegExp(`Kubernetes ${oldestSupported.major}\\.${oldestSupported.minor} or newer`),
  );
});

test('every example is admitted and served (the CRDs were established at start)', async () => {
  const files = (await readdir(join(repoRoot, 'examples'))).filter((file) => file.endsWith('.yaml')).sort();
  assert.ok(files.length >= 4, files.join(', '));
  for (const file of files) {
    const response = await applyExample(await example(file));
    assert.ok(
      response.status === 200 || response.status === 201,
      `${file}: ${response.status} ${response.body}`,
    );
  }
});

test('the CIDR rules and a transition rule refuse what they should, naming the field', async () => {
  const minimal = await example('smtprelay-minimal.yaml');
  const rows = [
    { change: ['clientNetworks', ['0.0.0.0/0']], field: 'spec.clientNetworks[0]', message: 'open relay' },
    {
      change: ['clientNetworks', ['10.0.0.300/8']],
      field: 'spec.clientNetworks[0]',
      message: 'must be a network in CIDR notation',
    },
    {
      change: ['service', { nodePorts: { smtp: 30025 } }],
      field: 'spec.service.nodePorts',
      message: 'nodePorts are only used with type: NodePort or LoadBalancer',
    },
  ] as const;
  for (const row of rows) {
    const response = await applyExample(changed(minimal, row.change));
    assert.equal(response.status, 422, response.body);
    const cause = (JSON.parse(response.body) as StatusBody).details?.causes?.find(
      (c) => c.field === row.field,
    );
    assert.ok(cause?.message?.includes(row.message), response.body);
  }
});

test("the chart's leader fence is admitted and refuses a write from a pod not holding the Lease", async () => {
  const namespace = 'fence-oldest';
  const serviceAccount = 'operator';
  await createServiceAccount(controlPlane, namespace, serviceAccount);
  await installChartLeaderFence(controlPlane, { namespace, serviceAccount, leaseName: 'operator-lease' });
  const created = async (path: string, object: Json) => {
    const response = await kubeRequest(controlPlane, 'POST', path, {
      contentType: 'application/json',
      body: JSON.stringify(object),
    });
    assert.equal(response.status, 201, `${path}: ${response.body}`);
  };
  await created(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
    metadata: { name: 'operator-lease' },
    spec: { holderIdentity: 'operator-0', leaseDurationSeconds: 15 },
  });
  const tokens: Record<string, string> = {};
  for (const name of ['operator-0', 'operator-1']) {
    tokens[name] = await podBoundToken(controlPlane, namespace, serviceAccount, name);
  }
  // Authorization comes before admission: the ServiceAccount may create ConfigMaps here.
  await created(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    metadata: { name: 'configmaps' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }],
  });
  await created(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    metadata: { name: 'configmaps' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmaps' },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  });
  const dryRunCreate = (token = '') =>
    kubeRequest(controlPlane, 'POST', `/api/v1/namespaces/${namespace}/configmaps?dryRun=All`, {
      token,
      contentType: 'application/json',
      body: JSON.stringify({ metadata: { name: 'probe' } }),
    });
  const deadline = Date.now() + 20_000;
  let refused = await dryRunCreate(tokens['operator-1']);
  // The policy and the RBAC take a moment to be seen.
  while (!refused.body.includes('leader fence') && Date.now() < deadline) {
    await new Promise((resolveLater) => setTimeout(resolveLater, 100));
    refused = await dryRunCreate(tokens['operator-1']);
  }
  assert.equal(refused.status, 403, refused.body);
  assert.match(
    refused.body,
    /write refused by the leader fence: pod operator-1 does not hold Lease fence-oldest\/operator-lease \(held by operator-0\)/,
  );
  const admitted = await dryRunCreate(tokens['operator-0']);
  assert.equal(admitted.status, 201, admitted.body);
});
