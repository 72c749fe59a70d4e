// The Job that drains the queue PVC of a relay pod scaled away: the relay's own pod (same image,
// config, Secrets, security context) mounting that PVC, run as `mailfleet-relay --drain-and-exit`:
// no listener, delivery for up to spec.queue.drainTimeout, then a hand-off of what is left to the
// pods still running; it succeeds only once the spool is empty. Its pod carries labels the relay's
// Service, PodDisruptionBudget and StatefulSet do not select, nor `app.kubernetes.io/instance`. Pure.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';
import {
  managedByLabel,
  nameLabel,
  objectNames,
  operatorName,
  ownedMetadata,
  relayName,
} from './relay-names.ts';
import { queueClaimName } from './relay-stateful-set.ts';

export const drainJobAppName = 'mailfleet-queue-drain';
/**
 * The relay a drain Job works for. Not `app.kubernetes.io/instance`: `-l app.kubernetes.io/instance=<relay>`
 * finds the relay's own pods (the docs and users select them so), and a finished drain pod is not one.
 */
export const drainRelayLabel = 'mailfleet.dev/queue-drain-of';
/** The ordinal whose PVC a drain Job empties, on the Job. */
export const drainOrdinalLabel = 'mailfleet.dev/queue-ordinal';

export const drainJobName = (relay: SmtpRelay, ordinal: number): string =>
  `${objectNames.statefulSet(relay)}-drain-${ordinal}`;

/** The labels that find a relay's drain Jobs (and only them). */
export function drainJobSelector(relay: SmtpRelay): Record<string, string> {
  return { [nameLabel]: drainJobAppName, [drainRelayLabel]: relayName(relay) };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: { args?: string[]; readinessProbe?: unknown; livenessProbe?: unknown }[];
    volumes?: { name: string }[];
    [field: string]: unknown;
  };
}

/** The drain Job for `ordinal`, from the StatefulSet as rendered for the relay now. */
export function renderDrainJob(relay: SmtpRelay, statefulSet: KubeObject, ordinal: number): KubeObject {
  const template = (statefulSet['spec'] as { template: PodTemplate }).template;
  const labels = { ...drainJobSelector(relay), [managedByLabel]: operatorName };
  const [container, ...others] = template.spec.containers;
  if (container === undefined) throw new Error('the relay StatefulSet has no container');
  // No probes: the drainer serves no SMTP and is never in a Service.
  const drainer = Object.fromEntries(
    Object.entries(container).filter(([field]) => field !== 'readinessProbe' && field !== 'livenessProbe'),
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...ownedMetadata(relay, drainJobName(relay, ordinal)),
      labels: { ...labels, [drainOrdinalLabel]: String(ordinal) },
    },
    spec: {
      // Each run delivers for drainTimeout; the retries back off 10 s, 20 s, … about 10 minutes in all.
      backoffLimit: 6,
      template: {
        metadata: { labels: { ...labels, [drainOrdinalLabel]: String(ordinal) } },
        spec: {
          ...template.spec,
          restartPolicy: 'OnFailure',
          containers: [{ ...drainer, args: [...(container.args ?? []), '--drain-and-exit'] }, ...others],
          volumes: [
            ...(template.spec.volumes ?? []),
            { name: 'queue', persistentVolumeClaim: { claimName: queueClaimName(relay, ordinal) } },
          ],
        },
      },
    },
  };
}
