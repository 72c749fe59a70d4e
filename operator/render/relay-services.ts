// The relay's two Services: the client Service (one port per listener, to the container port the
// relay binds) and the headless peers Service, which gives every pod a stable DNS name for drain
// handoff (ready or not) and carries the metrics port the ServiceMonitor scrapes. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { containerPortFor, httpPort, httpPortName } from './relay-paths.ts';
import { objectNames, ownedMetadata, selectorLabels } from './relay-names.ts';

/** Tells the two Services apart for selectors (the ServiceMonitor picks the peers one). */
export const serviceRoleLabel = 'mailfleet.dev/service';

export function renderClientService(relay: SmtpRelay): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMetadata(relay, objectNames.clientService(relay), { [serviceRoleLabel]: 'client' }),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(relay),
      ports: relay.spec.listeners.map((listener) => ({
        name: listener.name,
        port: listener.port,
        targetPort: containerPortFor(listener.port),
        protocol: 'TCP',
      })),
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
