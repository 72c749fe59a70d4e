// The chart's RBAC, installed for real on the shared control plane, as the apiserver's authorizer
// sees it: SubjectAccessReviews for the operator's ServiceAccount. It may do what the operator needs
// (cluster-wide, or only in the watched namespaces) and nothing it must not (docs/security-cases.md, case 27).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { kubeRequest } from '../../support/control-plane.ts';
import { sharedControlPlane } from '../../support/shared-control-plane.ts';
import { parseManifests, renderText } from '../../unit/chart/helm.ts';
import {
  clusterPermissions,
  forbiddenPermissions,
  namespacedPermissions,
  type Permission,
} from '../../unit/chart/rbac-rules.ts';
import { kubectlOk, serverSideApply } from './kubectl.ts';

const controlPlane = sharedControlPlane();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Installation {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly leaseName: string;
}

/** Installs the chart (without CRDs) into a new namespace; undone after the tests. */
async function install(release: string, set: readonly string[] = []): Promise<Installation> {
  const namespace = release;
  await kubectlOk(controlPlane, ['create', 'namespace', namespace]);
  const manifests = await renderText({ release, namespace, set });
  cleanups.push(() =>
    kubectlOk(controlPlane, ['delete', '--wait=false', '--ignore-not-found', '-f', '-'], manifests),
  );
  cleanups.push(() => kubectlOk(controlPlane, ['delete', 'namespace', namespace, '--wait=false']));
  await serverSideApply(controlPlane, manifests, 'apply');
  const objects = parseManifests(manifests);
  const serviceAccount = objects.find((manifest) => manifest.kind === 'ServiceAccount');
  assert.ok(serviceAccount);
  const leaseFlag = /--leader-election-name=([-a-z0-9.]+)/.exec(JSON.stringify(objects));
  assert.ok(leaseFlag?.[1], 'the Deployment names its Lease');
  return { namespace, serviceAccount: serviceAccount.metadata.name, leaseName: leaseFlag[1] };
}

async function createNamespace(name: string): Promise<void> {
  await kubectlOk(controlPlane, ['create', 'namespace', name]);
  cleanups.push(() => kubectlOk(controlPlane, ['delete', 'namespace', name, '--wait=false']));
}

interface Question {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** Whether the authorizer allows the ServiceAccount to do it. */
async function allowed(installation: Installation, question: Question): Promise<boolean> {
  const [resource = '', subresource] = question.resource.split('/');
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${installation.namespace}:${installation.serviceAccount}`,
      groups: [
        'system:serviceaccounts',
        `system:serviceaccounts:${installation.namespace}`,
        'system:authenticated',
      ],
      resourceAttributes: {
        group: question.group,
        resource,
        verb: question.verb,
        ...(subresource ? { subresource } : {}),
        ...(question.namespace ? { namespace: question.namespace } : {}),
        ...(question.name ? { name: question.name } : {}),
      },
    },
  };
  const response = await kubeRequest(
    controlPlane,
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      body: JSON.stringify(review),
      contentType: 'application/json',
    },
  );
  assert.equal(response.status, 201, response.body);
  return (JSON.parse(response.body) as { status: { allowed: boolean } }).status.allowed;
}

function questions(permissions: readonly Permission[], namespace?: string): Question[] {
  return permissions.flatMap(({ group, resource, verbs }) =>
    verbs.map((verb) => ({ group, resource, verb, ...(namespace ? { namespace } : {}) })),
  );
}

async function assertAnswers(installation: Installation, expected: boolean, asked: readonly Question[]) {
  const wrong: string[] = [];
  for (const question of asked) {
    if ((await allowed(installation, question)) !== expected) wrong.push(JSON.stringify(question));
  }
  assert.deepEqual(wrong, [], `expected allowed=${expected}`);
}

const suffix = randomBytes(3).toString('hex');

test('default install: the operator may manage its resources in every namespace, and no more', async () => {
  const installation = await install(`chart-rbac-${suffix}`);
  const elsewhere = `chart-rbac-other-${suffix}`;
  await createNamespace(elsewhere);
  await assertAnswers(installation, true, [
    ...questions(namespacedPermissions, elsewhere),
    ...questions(namespacedPermissions, installation.namespace),
    ...questions(clusterPermissions),
  ]);
  await assertAnswers(installation, false, [
    ...questions(forbiddenPermissions, elsewhere),
    ...questions(forbiddenPermissions),
  ]);
});

test('default install: the operator may hold only its own Lease, only in its namespace', async () => {
  const installation = await install(`chart-lease-${suffix}`);
  const lease = { group: 'coordination.k8s.io', resource: 'leases' };
  const own = { ...lease, namespace: installation.namespace, name: installation.leaseName };
  await assertAnswers(installation, true, [
    { ...own, verb: 'get' },
    { ...own, verb: 'update' },
    { ...lease, namespace: installation.namespace, verb: 'create' },
  ]);
  await assertAnswers(installation, false, [
    { ...own, verb: 'delete' },
    { ...own, name: 'kube-scheduler', verb: 'update' },
    { ...lease, namespace: installation.namespace, verb: 'list' },
    { ...lease, namespace: 'kube-system', name: installation.leaseName, verb: 'update' },
    { ...lease, namespace: 'kube-system', verb: 'create' },
  ]);
});

test('watchNamespaces: the operator may manage its resources only in the watched namespaces', async () => {
  const watched = `chart-watched-${suffix}`;
  const unwatched = `chart-unwatched-${suffix}`;
  await createNamespace(watched);
  await createNamespace(unwatched);
  const installation = await install(`chart-rbac-ns-${suffix}`, [`operator.watchNamespaces={${watched}}`]);
  await assertAnswers(installation, true, [
    ...questions(namespacedPermissions, watched),
    ...questions(clusterPermissions),
  ]);
  await assertAnswers(installation, false, [
    ...questions(namespacedPermissions, unwatched),
    ...questions(namespacedPermissions),
    ...questions(forbiddenPermissions, watched),
  ]);
});
