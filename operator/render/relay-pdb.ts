// A PodDisruptionBudget letting voluntary disruptions (node drains) take one relay pod at a time;
// only with more than one replica, since with one it would block every drain. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import { objectNames, ownedMetadata, selectorLabels } from './relay-names.ts';

export function renderPodDisruptionBudget(relay: SmtpRelay): KubeObject | undefined {
  if (relay.spec.replicas <= 1) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: ownedMetadata(relay, objectNames.podDisruptionBudget(relay)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(relay) } },
  };
}
