// Everything an SmtpRelay becomes, from its inputs as read from the caches: the relay config and
// the objects to apply. Optional kinds (ServiceMonitor, PrometheusRule, Certificate) are rendered
// only when asked for AND served by the cluster; what is asked for but not served is reported.
// Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject, ResourceType } from '../kube/resource.ts';
import { renderCertificate } from './relay-certificate.ts';
import { renderConfigMap } from './relay-config-map.ts';
import { renderRelayConfig, type RenderedRelayConfig } from './relay-config.ts';
import { renderPrometheusRule, renderServiceMonitor } from './relay-monitoring.ts';
import { renderNetworkPolicy } from './relay-network-policy.ts';
import { renderPodDisruptionBudget } from './relay-pdb.ts';
import { relayResources, servedName, type ServedResources } from './relay-resources.ts';
import { renderRelaySecret, type BoundDomain, type SecretLookup } from './relay-secret.ts';
import { renderClientService, renderPeersService } from './relay-services.ts';
import { renderStatefulSet } from './relay-stateful-set.ts';
import type { IssuerKeysResult } from './relay-token-auth.ts';

export interface SmtpRelayInputs {
  readonly relay: SmtpRelay;
  readonly domains: readonly BoundDomain[];
  /** Secrets of the relay's namespace by name, as cached. */
  readonly secrets: SecretLookup;
  readonly relayImage: string;
  readonly clusterDomain: string;
  readonly served: ServedResources;
  /** The ServiceAccount issuer's keys, for a relay with spec.serviceAccountTokens. */
  readonly issuer?: IssuerKeysResult | undefined;
  /** Where the operator runs, admitted to the metrics port by the NetworkPolicy (relay-network-policy.ts). */
  readonly operatorNamespace?: string | undefined;
}

export interface DesiredObject {
  readonly resource: ResourceType;
  readonly object: KubeObject;
}

export interface RenderedSmtpRelay extends RenderedRelayConfig {
  readonly objects: readonly DesiredObject[];
  /** Optional kinds the spec asks for that the cluster does not serve, each naming the field. */
  readonly notServed: readonly string[];
}

export function renderSmtpRelay(inputs: SmtpRelayInputs): RenderedSmtpRelay {
  const { relay, domains, secrets, relayImage, clusterDomain, served, issuer } = inputs;
  const rendered = renderRelayConfig({ relay, domains, clusterDomain, issuer });
  // The Secret before the ConfigMap: a config naming a key file the pod does not have yet is
  // refused by the relay's reload (it keeps the old one) until the file arrives.
  const objects: DesiredObject[] = [
    { resource: relayResources.secret, object: renderRelaySecret(relay, domains, secrets) },
    { resource: relayResources.configMap, object: renderConfigMap(relay, rendered.config) },
    { resource: relayResources.service, object: renderClientService(relay) },
    { resource: relayResources.service, object: renderPeersService(relay) },
    {
      resource: relayResources.statefulSet,
      object: renderStatefulSet({
        relay,
        config: rendered.config,
        image: relay.spec.pod.image ?? relayImage,
      }),
    },
  ];
  const notServed: string[] = [];
  const optional = (resource: ResourceType, object: KubeObject | undefined, field: string) => {
    if (object === undefined) return;
    if (served.has(servedName(resource))) objects.push({ resource, object });
    else
      notServed.push(
        `${field} asks for a ${resource.kind} but ${resource.group}/${resource.version} ${resource.plural} is not served by this cluster; install its CRDs or turn it off`,
      );
  };
  const budget = renderPodDisruptionBudget(relay);
  if (budget !== undefined) objects.push({ resource: relayResources.podDisruptionBudget, object: budget });
  const networkPolicy = renderNetworkPolicy(relay, inputs.operatorNamespace);
  if (networkPolicy !== undefined)
    objects.push({ resource: relayResources.networkPolicy, object: networkPolicy });
  optional(relayResources.certificate, renderCertificate(relay, clusterDomain), 'spec.tls.issuerRef');
  optional(
    relayResources.serviceMonitor,
    renderServiceMonitor(relay),
    'spec.monitoring.serviceMonitor.enabled',
  );
  optional(
    relayResources.prometheusRule,
    renderPrometheusRule(relay),
    'spec.monitoring.prometheusRule.enabled',
  );
  return { ...rendered, objects, notServed };
}
