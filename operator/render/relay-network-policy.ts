// The NetworkPolicy of `spec.networkPolicy`: ingress to the relay pods only on the SMTP listener
// ports (from `smtpFrom`, or anywhere, and always from the relay's own pods, which take each other's
// queue on drain) and on the metrics port (from `metricsFromNamespaces` and the operator's own
// namespace, which reads /queuez there while a relay is deleted; or anywhere). Every other
// port is closed; egress is left alone (next hops, DNS and MTA-STS hosts vary). Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { objectNames, ownedMetadata, selectorLabels } from './relay-names.ts';
import { containerPortFor, httpPort } from './relay-paths.ts';

/** `operatorNamespace`: where the operator runs; it reads /queuez on the metrics port during a deletion. */
export function renderNetworkPolicy(relay: SmtpRelay, operatorNamespace?: string): KubeObject | undefined {
  const policy = relay.spec.networkPolicy;
  if (!policy.enabled) return undefined;
  const smtpPorts = relay.spec.listeners.map((listener) => ({
    protocol: 'TCP',
    port: containerPortFor(listener.port),
  }));
  const smtpFrom = policy.smtpFrom ?? [];
  const listed = policy.metricsFromNamespaces ?? [];
  const metricsFrom =
    listed.length > 0 && operatorNamespace !== undefined && !listed.includes(operatorNamespace)
      ? [...listed, operatorNamespace]
      : listed;
  const peers = { podSelector: { matchLabels: selectorLabels(relay) } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: ownedMetadata(relay, objectNames.networkPolicy(relay)),
    spec: {
      podSelector: { matchLabels: selectorLabels(relay) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ports: smtpPorts,
          ...(smtpFrom.length === 0
            ? {}
            : { from: [...smtpFrom.map((cidr) => ({ ipBlock: { cidr } })), peers] }),
        },
        {
          ports: [{ protocol: 'TCP', port: httpPort }],
          ...(metricsFrom.length === 0
            ? {}
            : {
                from: metricsFrom.map((namespace) => ({
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
                })),
              }),
        },
      ],
    },
  };
}
