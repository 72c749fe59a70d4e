// The names, labels and DNS names of the objects an SmtpRelay becomes. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import { formatSelector } from '../kube/label-selector.ts';
import type { KubeObject, ObjectMeta } from '../kube/resource.ts';
import { controllerReference } from '../kube/owner.ts';

export const nameLabel = 'app.kubernetes.io/name';
export const instanceLabel = 'app.kubernetes.io/instance';
export const managedByLabel = 'app.kubernetes.io/managed-by';
export const relayAppName = 'mailfleet-relay';
export const operatorName = 'mailfleet-operator';

/** With the value "true", the operator applies and deletes nothing for the relay; it still reports status. */
export const pausedAnnotation = 'mailfleet.dev/paused';

export function isPaused(relay: SmtpRelay): boolean {
  return relay.metadata.annotations?.[pausedAnnotation] === 'true';
}

export function relayName(relay: SmtpRelay): string {
  return relay.metadata.name ?? '';
}

export function relayNamespace(relay: SmtpRelay): string {
  return relay.metadata.namespace ?? '';
}

/** The labels that select the relay's pods (immutable in the StatefulSet, so only these two). */
export function selectorLabels(relay: SmtpRelay): Record<string, string> {
  return { [nameLabel]: relayAppName, [instanceLabel]: relayName(relay) };
}

/** The labels on every object the relay becomes. */
export function commonLabels(relay: SmtpRelay): Record<string, string> {
  return { ...selectorLabels(relay), [managedByLabel]: operatorName };
}

/** The pod selector as a string, for status.selector (the scale subresource). */
export function podSelector(relay: SmtpRelay): string {
  return formatSelector({ matchLabels: selectorLabels(relay) });
}

/** The relay as the runtime's generic object (the generated type has no index signature). */
export function asKubeObject(relay: SmtpRelay): KubeObject {
  return { apiVersion: relay.apiVersion, kind: relay.kind, metadata: relay.metadata };
}

/** Metadata of an owned object: name, namespace, common labels (plus `labels`), owner reference. */
export function ownedMetadata(
  relay: SmtpRelay,
  name: string,
  labels: Record<string, string> = {},
): ObjectMeta {
  return {
    name,
    namespace: relayNamespace(relay),
    labels: { ...labels, ...commonLabels(relay) },
    ownerReferences: [controllerReference(asKubeObject(relay))],
  };
}

export const objectNames = {
  statefulSet: (relay: SmtpRelay) => relayName(relay),
  clientService: (relay: SmtpRelay) => relayName(relay),
  peersService: (relay: SmtpRelay) => `${relayName(relay)}-peers`,
  configMap: (relay: SmtpRelay) => `${relayName(relay)}-config`,
  relaySecret: (relay: SmtpRelay) => `${relayName(relay)}-relay-secrets`,
  podDisruptionBudget: (relay: SmtpRelay) => relayName(relay),
  networkPolicy: (relay: SmtpRelay) => relayName(relay),
  serviceMonitor: (relay: SmtpRelay) => relayName(relay),
  prometheusRule: (relay: SmtpRelay) => relayName(relay),
  certificate: (relay: SmtpRelay) => `${relayName(relay)}-tls`,
  /** The Secret cert-manager fills for the Certificate. */
  certificateSecret: (relay: SmtpRelay) => `${relayName(relay)}-tls`,
} as const;

/** The DNS names of the client Service, most specific first. */
export function serviceDnsNames(relay: SmtpRelay, clusterDomain: string): string[] {
  const service = `${objectNames.clientService(relay)}.${relayNamespace(relay)}`;
  return [`${service}.svc.${clusterDomain}`, `${service}.svc`];
}

/** The stable DNS name of pod `ordinal` through the headless peers Service. */
export function podDnsName(relay: SmtpRelay, ordinal: number, clusterDomain: string): string {
  return `${objectNames.statefulSet(relay)}-${ordinal}.${objectNames.peersService(relay)}.${relayNamespace(relay)}.svc.${clusterDomain}`;
}
