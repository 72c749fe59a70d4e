// The plugin's reads of the Kubernetes API: SmtpRelays, SenderDomains and the relay pods, with the
// operator's client (client-node's KubeConfig: the same kubeconfig, context and credentials kubectl
// uses).
import { senderDomainResource, smtpRelayResource } from '../operator/api/kinds.ts';
import type { SenderDomain, SmtpRelay } from '../operator/api/types.generated.ts';
import type { KubeClient } from '../operator/kube/client.ts';
import { collectionPath, objectPath, type KubeObject, type ResourceType } from '../operator/kube/resource.ts';

const podResource: ResourceType = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

export interface RelayPod extends KubeObject {
  readonly status?: { readonly phase?: string };
}

export interface Cluster {
  /** In one namespace, or in all when `namespace` is undefined. */
  relays(namespace: string | undefined): Promise<SmtpRelay[]>;
  domains(namespace: string | undefined): Promise<SenderDomain[]>;
  relay(namespace: string, name: string): Promise<SmtpRelay>;
  domain(namespace: string, name: string): Promise<SenderDomain>;
  /** The pods matching a label selector, by name. */
  pods(namespace: string, selector: string): Promise<RelayPod[]>;
}

export function apiCluster(client: KubeClient): Cluster {
  const list = async <T extends KubeObject>(
    resource: ResourceType,
    namespace?: string,
    selector?: string,
  ) => {
    const answer = await client.request<{ items: T[] }>({
      verb: 'list',
      path: collectionPath(resource, namespace),
      ...(selector === undefined ? {} : { query: { labelSelector: selector } }),
    });
    return answer.items.sort((a, b) =>
      `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(
        `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`,
      ),
    );
  };
  const get = <T>(resource: ResourceType, namespace: string, name: string) =>
    client.request<T>({ verb: 'get', path: objectPath(resource, { namespace, name }) });
  return {
    relays: (namespace) => list<SmtpRelay & KubeObject>(smtpRelayResource, namespace),
    domains: (namespace) => list<SenderDomain & KubeObject>(senderDomainResource, namespace),
    relay: (namespace, name) => get<SmtpRelay>(smtpRelayResource, namespace, name),
    domain: (namespace, name) => get<SenderDomain>(senderDomainResource, namespace, name),
    pods: (namespace, selector) => list<RelayPod>(podResource, namespace, selector),
  };
}
