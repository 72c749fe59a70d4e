// The kinds an SmtpRelay becomes beyond the core ones in operator/kube/resource.ts, and which API
// group versions must be served before the optional ones are rendered (discovered, never assumed).
import { coreResources, type ResourceType } from '../kube/resource.ts';

export const relayResources = {
  ...coreResources,
  podDisruptionBudget: {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
  },
  networkPolicy: {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  serviceMonitor: {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'ServiceMonitor',
    plural: 'servicemonitors',
    namespaced: true,
  },
  prometheusRule: {
    group: 'monitoring.coreos.com',
    version: 'v1',
    kind: 'PrometheusRule',
    plural: 'prometheusrules',
    namespaced: true,
  },
  certificate: {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

/** The kinds only some clusters serve: rendered only when discovery finds them. */
export const optionalRelayResources: readonly ResourceType[] = [
  relayResources.serviceMonitor,
  relayResources.prometheusRule,
  relayResources.certificate,
];

/** Every kind the relay owns and the reconciler may create or delete. */
export const ownedRelayResources: readonly ResourceType[] = [
  relayResources.statefulSet,
  relayResources.service,
  relayResources.configMap,
  relayResources.secret,
  relayResources.podDisruptionBudget,
  relayResources.networkPolicy,
  ...optionalRelayResources,
];

/** `plural.group`, the name discovery and the served set use. */
export function servedName(resource: ResourceType): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** The kinds the cluster serves, by `servedName`; the core and policy ones are always there. */
export type ServedResources = ReadonlySet<string>;
