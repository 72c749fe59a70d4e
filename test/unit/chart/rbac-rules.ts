// The operator's required permissions, and a reader of the RBAC objects the chart renders: the
// RBAC lint test and the integration test (kubectl auth can-i against a real apiserver) share them.
import type { Manifest } from './helm.ts';

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly verbs: readonly string[];
}

export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}

/** Watched and server-side applied (apply is create + patch). */
const applied = ['get', 'list', 'watch', 'create', 'patch'];
/** Optional kinds (their CRDs may be absent): read by name, applied, deleted when turned off. */
const optionalKind = ['get', 'create', 'patch', 'delete'];

/** What the operator needs in every namespace it manages (issue #5). */
export const namespacedPermissions: readonly Permission[] = [
  { group: 'mailfleet.dev', resource: 'smtprelays', verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { group: 'mailfleet.dev', resource: 'senderdomains', verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { group: 'mailfleet.dev', resource: 'smtprelays/status', verbs: ['get', 'update', 'patch'] },
  { group: 'mailfleet.dev', resource: 'senderdomains/status', verbs: ['get', 'update', 'patch'] },
  { group: 'apps', resource: 'statefulsets', verbs: applied },
  { group: '', resource: 'services', verbs: applied },
  { group: '', resource: 'configmaps', verbs: applied },
  { group: '', resource: 'secrets', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { group: '', resource: 'events', verbs: ['create', 'patch'] },
  { group: 'events.k8s.io', resource: 'events', verbs: ['create', 'patch'] },
  { group: 'policy', resource: 'poddisruptionbudgets', verbs: [...applied, 'delete'] },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: [...applied, 'delete'] },
  { group: 'monitoring.coreos.com', resource: 'servicemonitors', verbs: optionalKind },
  { group: 'monitoring.coreos.com', resource: 'prometheusrules', verbs: optionalKind },
  { group: 'cert-manager.io', resource: 'certificates', verbs: optionalKind },
];

/**
 * Cluster-scoped: discovery of the optional CRDs; Namespaces' labels (allowedSenderDomains); token and
 * access reviews for secure metrics (case 38).
 */
export const clusterPermissions: readonly Permission[] = [
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verbs: ['get', 'list', 'watch'] },
  { group: '', resource: 'namespaces', verbs: ['get', 'list', 'watch'] },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'] },
  { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'] },
];

/** What the operator must never be able to do, wherever. */
export const forbiddenPermissions: readonly Permission[] = [
  { group: '', resource: 'secrets', verbs: ['delete', 'deletecollection'] },
  { group: '', resource: 'pods', verbs: ['create', 'delete', 'update'] },
  { group: '', resource: 'pods/exec', verbs: ['create'] },
  { group: '', resource: 'serviceaccounts', verbs: ['create'] },
  { group: '', resource: 'serviceaccounts/token', verbs: ['create'] },
  { group: '', resource: 'namespaces', verbs: ['create', 'delete'] },
  { group: '', resource: 'nodes', verbs: ['get', 'update'] },
  { group: 'apps', resource: 'deployments', verbs: ['create', 'update'] },
  // A relay's StatefulSet holds its queue volumes: only the garbage collector removes it.
  { group: 'apps', resource: 'statefulsets', verbs: ['delete', 'deletecollection'] },
  { group: 'apps', resource: 'daemonsets', verbs: ['create'] },
  {
    group: 'rbac.authorization.k8s.io',
    resource: 'clusterroles',
    verbs: ['create', 'update', 'bind', 'escalate'],
  },
  { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', verbs: ['create'] },
  {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    verbs: ['create', 'update', 'delete'],
  },
  { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', verbs: ['create'] },
];

export const rbacKinds = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

export function rulesOf(role: Manifest): readonly PolicyRule[] {
  return (role['rules'] as PolicyRule[] | undefined) ?? [];
}

/** Whether the rules grant the verb on the resource (to every name, unless a name is given). */
export function grants(
  rules: readonly PolicyRule[],
  group: string,
  resource: string,
  verb: string,
  name?: string,
): boolean {
  return rules.some(
    (rule) =>
      (rule.apiGroups ?? []).some((ruleGroup) => ruleGroup === group || ruleGroup === '*') &&
      (rule.resources ?? []).some((ruleResource) => ruleResource === resource || ruleResource === '*') &&
      rule.verbs.some((ruleVerb) => ruleVerb === verb || ruleVerb === '*') &&
      (rule.resourceNames === undefined ||
        rule.resourceNames.length === 0 ||
        (name !== undefined && rule.resourceNames.includes(name))),
  );
}
