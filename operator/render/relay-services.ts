// The relay's two Services: the client Service (one port per listener, to the container port the
// relay binds) and the headless peers Service, which gives every pod a stable DNS name for drain
// handoff (ready or not) and carries the metrics port the ServiceMonitor scrapes. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { containerPortFor, httpPort, httpPortName } from './relay-paths.ts';
import { objectNames, ownedMetadata, selectorLabels } from './relay-names.ts';

/** Tells the two Services apart for selectors (the ServiceMonitor picks the peers one). */
export const serviceRoleLabel = 'mailfleet.dev/service';

/**
 * The client Service as `spec.service` asks: ClusterIP by default; NodePort and LoadBalancer with
 * `externalTrafficPolicy: Local` unless told otherwise, so the relay's policy sees client addresses.
 * A field the type does not use is never rendered, so a switch of type drops it (server-side apply
 * removes what the operator no longer sets; the apiserver clears the node ports it allocated).
 */
export function renderClientService(relay: SmtpRelay): KubeObject {
  const service = relay.spec.service;
  const external = service.type !== 'ClusterIP';
  const loadBalancer = service.type === 'LoadBalancer';
  const metadata = ownedMetadata(relay, objectNames.clientService(relay), {
    ...service.labels,
    [serviceRoleLabel]: 'client',
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: service.annotations ? { ...metadata, annotations: { ...service.annotations } } : metadata,
    spec: {
      type: service.type,
      selector: selectorLabels(relay),
      ports: relay.spec.listeners.map((listener) => {
        const nodePort = external ? service.nodePorts?.[listener.name] : undefined;
        return {
          name: listener.name,
          port: listener.port,
          targetPort: containerPortFor(listener.port),
          protocol: 'TCP',
          ...(nodePort === undefined ? {} : { nodePort }),
        };
      }),
      ...(external ? { externalTrafficPolicy: service.externalTrafficPolicy ?? 'Local' } : {}),
      ...(service.internalTrafficPolicy ? { internalTrafficPolicy: service.internalTrafficPolicy } : {}),
      ...(loadBalancer && service.loadBalancerClass ? { loadBalancerClass: service.loadBalancerClass } : {}),
      ...(loadBalancer && service.loadBalancerSourceRanges?.length
        ? { loadBalancerSourceRanges: [...service.loadBalancerSourceRanges] }
        : {}),
      ...(loadBalancer && service.allocateLoadBalancerNodePorts !== undefined
        ? { allocateLoadBalancerNodePorts: service.allocateLoadBalancerNodePorts }
        : {}),
    },
  };
}

export function renderPeersService(relay: SmtpRelay): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMetadata(relay, objectNames.peersService(relay), { [serviceRoleLabel]: 'peers' }),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(relay),
      ports: [
        ...relay.spec.listeners.map((listener) => ({
          name: listener.name,
          port: containerPortFor(listener.port),
          targetPort: containerPortFor(listener.port),
          protocol: 'TCP',
        })),
        { name: httpPortName, port: httpPort, targetPort: httpPort, protocol: 'TCP' },
      ],
    },
  };
}
