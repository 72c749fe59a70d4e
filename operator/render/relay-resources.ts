// The kinds an SmtpRelay becomes beyond the core ones in operator/kube/resource.ts, and which API
// group versions must be served before the optional ones are rendered (discovered, never assumed).
import type { SmtpRelay } from '../api/types.generated.ts';
import { coreResources, type ResourceType } from '../kube/resource.ts';
import { objectNames } from './relay-names.ts';

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

/** An object a relay has only while its spec asks for it: the reconciler deletes it when dropped. */
export interface ConditionalRelayObject {
  readonly resource: ResourceType;
  readonly name: (relay: SmtpRelay) => string;
}

/** Every owned object the render may drop, in the order the reconciler deletes them. */
export const conditionalRelayObjects: readonly ConditionalRelayObject[] = [
  { resource: relayResources.podDisruptionBudget, name: objectNames.podDisruptionBudget },
  { resource: relayResources.networkPolicy, name: objectNames.networkPolicy },
  { resource: relayResources.certificate, name: objectNames.certificate },
  { resource: relayResources.serviceMonitor, name: objectNames.serviceMonitor },
  { resource: relayResources.prometheusRule, name: objectNames.prometheusRule },
];

/** Every kind the relay owns and the reconciler may create or delete. */
export const ownedRelayResources: readonly ResourceType[] = [
  relayResources.statefulSet,
  relayResources.service,
  relayResources.configMap,
  relayResources.secret,
  ...conditionalRelayObjects.map((object) => object.resource),
];

/** The owned kinds every cluster serves (the reconciler watches them; the optional ones it reads by name). */
export const cachedOwnedRelayResources: readonly ResourceType[] = ownedRelayResources.filter(
  (resource) => !optionalRelayResources.includes(resource),
);

/** `plural.group`, the name discovery and the served set use. */
export function servedName(resource: ResourceType): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** The kinds the cluster serves, by `servedName`; the core and policy ones are always there. */
export type ServedResources = ReadonlySet<string>;
