// RBAC lint of every rendering of the chart: least privilege (docs/security-cases.md, case 27). No wildcard, no
// cluster-admin, no privilege-escalation verbs, leases only in the release namespace, and each
// permission the operator needs granted exactly where it is needed. The non-resource URLs are
// `get /metrics` in the metrics-reader ClusterRole the chart offers to Prometheus (case 38), and
// `get` of the ServiceAccount issuer's discovery document and JWKS in the operator's ClusterRole
// (public keys it renders into the configs of relays taking tokens, issue 15).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conditionalRelayObjects, ownedRelayResources } from '../../../operator/render/relay-resources.ts';
import { fullValuesPath, render, type Manifest, type RenderOptions } from './helm.ts';
import {
  clusterPermissions,
  forbiddenPermissions,
  grants,
  namespacedPermissions,
  rbacKinds,
  rulesOf,
} from './rbac-rules.ts';

const renderings: readonly { name: string; options: RenderOptions; watched: readonly string[] }[] = [
  { name: 'default values', options: {}, watched: [] },
  { name: 'full values', options: { valuesFiles: [fullValuesPath] }, watched: ['mail-a', 'mail-b'] },
  { name: 'watchNamespaces', options: { set: ['operator.watchNamespaces={team-a}'] }, watched: ['team-a'] },
  {
    name: 'no leader election',
    options: { set: ['operator.leaderElection.enabled=false', 'operator.replicas=1'] },
    watched: [],
  },
];

const issuerKeysRule = {
  nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'],
  verbs: ['get'],
};

const escalationVerbs = ['escalate', 'bind', 'impersonate', '*'];
const broadRoles = ['cluster-admin', 'admin', 'edit', 'system:masters'];

function roles(manifests: readonly Manifest[]): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === 'Role' || manifest.kind === 'ClusterRole');
}

for (const { name, options, watched } of renderings) {
  test(`RBAC of ${name}: no wildcard, no escalation verb, no non-resource URL but get /metrics for the metrics reader and the issuer keys for the operator`, async () => {
    const manifests = await render(options);
    assert.ok(roles(manifests).length > 0, 'the chart renders RBAC');
    for (const role of roles(manifests)) {
      for (const rule of rulesOf(role)) {
        const where = `${role.kind} ${role.metadata.name}: ${JSON.stringify(rule)}`;
        for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames]) {
          assert.ok(!(field ?? []).some((entry) => entry.includes('*')), `wildcard in ${where}`);
        }
        if (role.kind === 'ClusterRole' && role.metadata.name.endsWith('-metrics-reader')) {
          assert.deepEqual(rule, { nonResourceURLs: ['/metrics'], verbs: ['get'] }, where);
        } else if (role.kind === 'ClusterRole' && rule.nonResourceURLs !== undefined) {
          assert.deepEqual(rule, issuerKeysRule, where);
        } else {
          assert.equal(rule.nonResourceURLs, undefined, `non-resource URL in ${where}`);
        }
        assert.ok(!rule.verbs.some((verb) => escalationVerbs.includes(verb)), `escalation verb in ${where}`);
      }
    }
  });

  test(`RBAC of ${name}: bindings refer only to the chart's own roles and ServiceAccount`, async () => {
    const manifests = await render(options);
    const ownRoles = new Set(roles(manifests).map((role) => `${role.kind}/${role.metadata.name}`));
    const serviceAccount = manifests.find((manifest) => manifest.kind === 'ServiceAccount');
    for (const binding of manifests.filter(
      (m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding',
    )) {
      const roleRef = binding['roleRef'] as { kind: string; name: string };
      assert.ok(!broadRoles.includes(roleRef.name), `${binding.metadata.name} binds ${roleRef.name}`);
      assert.ok(
        ownRoles.has(`${roleRef.kind}/${roleRef.name}`),
        `${binding.metadata.name} binds a foreign role`,
      );
      const subjects = binding['subjects'] as { kind: string; name: string; namespace: string }[];
      assert.deepEqual(subjects, [
        { kind: 'ServiceAccount', name: serviceAccount?.metadata.name, namespace: 'mailfleet-system' },
      ]);
    }
  });

  test(`RBAC of ${name}: the operator gets what it needs, where it needs it, and nothing it must not have`, async () => {
    const manifests = await render(options);
    const clusterRules = roles(manifests)
      .filter((role) => role.kind === 'ClusterRole')
      .flatMap(rulesOf);
    const rulesIn = (namespace: string) =>
      roles(manifests)
        .filter((role) => role.kind === 'Role' && role.metadata.namespace === namespace)
        .flatMap(rulesOf);
    const namespacedScopes = watched.length === 0 ? [clusterRules] : watched.map(rulesIn);
    for (const rules of namespacedScopes) {
      for (const { group, resource, verbs } of namespacedPermissions) {
        for (const verb of verbs)
          assert.ok(grants(rules, group, resource, verb), `${verb} ${group}/${resource}`);
      }
    }
    for (const { group, resource, verbs } of clusterPermissions) {
      for (const verb of verbs) assert.ok(grants(clusterRules, group, resource, verb), `${verb} ${resource}`);
    }
    if (watched.length > 0) {
      assert.ok(
        !grants(clusterRules, 'mailfleet.dev', 'smtprelays', 'list'),
        'watchNamespaces: no cluster-wide reads',
      );
      assert.ok(!grants(clusterRules, '', 'secrets', 'get'), 'watchNamespaces: no cluster-wide secrets');
    }
    for (const rules of [
      clusterRules,
      ...roles(manifests)
        .filter((r) => r.kind === 'Role')
        .map(rulesOf),
    ]) {
      for (const { group, resource, verbs } of forbiddenPermissions) {
        for (const verb of verbs)
          assert.ok(!grants(rules, group, resource, verb), `${verb} ${group}/${resource}`);
      }
    }
  });

  test(`RBAC of ${name}: leases only for leader election, only in the release namespace`, async () => {
    const manifests = await render(options);
    const deployment = manifests.find((manifest) => manifest.kind === 'Deployment');
    const leaderElection = !JSON.stringify(deployment).includes('--leader-elect=false');
    for (const role of roles(manifests)) {
      const leaseRules = rulesOf(role).filter((rule) => (rule.resources ?? []).includes('leases'));
      if (leaseRules.length === 0) continue;
      assert.equal(role.kind, 'Role');
      assert.equal(role.metadata.namespace, 'mailfleet-system');
      assert.ok(leaderElection, 'no lease permissions without leader election');
      for (const rule of leaseRules) {
        assert.deepEqual(rule.apiGroups, ['coordination.k8s.io']);
        assert.ok(
          rule.verbs.every((verb) => ['create', 'get', 'update'].includes(verb)),
          rule.verbs.join(),
        );
        if (rule.verbs.some((verb) => verb !== 'create')) assert.equal(rule.resourceNames?.length, 1);
      }
    }
    const leaseRoles = roles(manifests).filter((role) =>
      rulesOf(role).some((r) => r.resources?.includes('leases')),
    );
    assert.equal(leaseRoles.length, leaderElection ? 1 : 0);
  });
}

test('rbac.create=false renders no RBAC object at all', async () => {
  const manifests = await render({ set: ['rbac.create=false'] });
  assert.deepEqual(
    manifests.filter((manifest) => rbacKinds.has(manifest.kind)),
    [],
  );
});

test('the required permissions cover every kind a relay owns, with delete for those the render may drop', () => {
  const conditional = new Set(conditionalRelayObjects.map((object) => object.resource));
  for (const resource of ownedRelayResources) {
    const permission = namespacedPermissions.find(
      (entry) => entry.group === resource.group && entry.resource === resource.plural,
    );
    assert.ok(permission, `${resource.plural}.${resource.group} has a required permission`);
    for (const verb of ['get', 'create', 'patch', ...(conditional.has(resource) ? ['delete'] : [])])
      assert.ok(permission.verbs.includes(verb), `${verb} ${resource.plural}.${resource.group}`);
  }
});
