// The I/O of an SmtpRelay's deletion gate (operator/status/smtp-relay-deletion.ts decides): the
// finalizer put on every relay and taken off when the deletion may go on, the relay pods' queues read
// from their /queuez, and the queue PVCs listed and, when the policy says so and they are known empty,
// deleted.
import type { QueueReport } from '../../relay/health.ts';
import { smtpRelayResource } from '../api/kinds.ts';
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeClient } from '../kube/client.ts';
import { collectionPath, objectPath, type KubeObject, type ResourceType } from '../kube/resource.ts';
import { objectNames, podSelector } from '../render/relay-names.ts';
import { httpPort } from '../render/relay-paths.ts';
import { queueClaimName } from '../render/relay-stateful-set.ts';
import { drainFinalizer, type PodQueue } from '../status/smtp-relay-deletion.ts';

const pods: ResourceType = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const claims: ResourceType = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  namespaced: true,
};

export interface PodObject extends KubeObject {
  status?: { phase?: string; podIP?: string };
}

/** One pod's /queuez; undefined when it does not answer in time (or answers something else). */
export type QueueReader = (podIp: string, port: number) => Promise<QueueReport | undefined>;

export const readQueueOverHttp: QueueReader = async (podIp, port) => {
  const host = podIp.includes(':') ? `[${podIp}]` : podIp;
  try {
    const response = await fetch(`http://${host}:${port}/queuez`, { signal: AbortSignal.timeout(3_000) });
    if (!response.ok) return undefined;
    const report = (await response.json()) as Partial<QueueReport>;
    return typeof report.messages === 'number' && typeof report.phase === 'string'
      ? { messages: report.messages, phase: report.phase }
      : undefined;
  } catch {
    return undefined;
  }
};

const relayPath = (relay: SmtpRelay) =>
  objectPath(smtpRelayResource, {
    namespace: relay.metadata.namespace ?? '',
    name: relay.metadata.name ?? '',
  });

/** Puts the drain finalizer on a relay that lacks it (a JSON patch that fails if the relay changed). */
export async function ensureDrainFinalizer(client: KubeClient, relay: SmtpRelay): Promise<void> {
  const finalizers = relay.metadata.finalizers ?? [];
  if (finalizers.includes(drainFinalizer)) return;
  await client.request({
    verb: 'patch',
    path: relayPath(relay),
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: relay.metadata.resourceVersion },
      relay.metadata.finalizers === undefined
        ? { op: 'add', path: '/metadata/finalizers', value: [drainFinalizer] }
        : { op: 'add', path: '/metadata/finalizers/-', value: drainFinalizer },
    ],
  });
}

/** Takes the drain finalizer off: the API server then finishes the deletion (and the GC the rest). */
export async function removeDrainFinalizer(client: KubeClient, relay: SmtpRelay): Promise<void> {
  const index = (relay.metadata.finalizers ?? []).indexOf(drainFinalizer);
  if (index < 0) return;
  await client.request({
    verb: 'patch',
    path: relayPath(relay),
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: `/metadata/finalizers/${index}`, value: drainFinalizer },
      { op: 'remove', path: `/metadata/finalizers/${index}` },
    ],
  });
}

/** The relay's pods (running or stopping), as listed. */
export async function listRelayPods(client: KubeClient, relay: SmtpRelay): Promise<PodObject[]> {
  const list = await client.request<{ items: PodObject[] }>({
    verb: 'list',
    path: collectionPath(pods, relay.metadata.namespace ?? ''),
    query: { labelSelector: podSelector(relay) },
  });
  return list.items;
}

/** A relay pod's ordinal (`<relay>-<n>`), undefined for a name of another shape. */
export function podOrdinal(relay: SmtpRelay, podName: string): number | undefined {
  const prefix = `${objectNames.statefulSet(relay)}-`;
  const rest = podName.startsWith(prefix) ? podName.slice(prefix.length) : '';
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

/** The relay's queue PVCs by ordinal (`queue-<relay>-<n>`), scaled-away ordinals included, none being deleted. */
export async function listQueueClaims(client: KubeClient, relay: SmtpRelay): Promise<Map<number, string>> {
  const list = await client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: collectionPath(claims, relay.metadata.namespace ?? ''),
    query: { labelSelector: podSelector(relay) },
  });
  const prefix = queueClaimName(relay, '');
  const byOrdinal = new Map<number, string>();
  for (const claim of list.items) {
    // One being deleted is gone as far as the queues go (nothing may mount it again).
    if (claim.metadata?.deletionTimestamp !== undefined) continue;
    const name = claim.metadata?.name ?? '';
    const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (/^[0-9]+$/.test(rest)) byOrdinal.set(Number(rest), name);
  }
  return byOrdinal;
}

/** The relay's pods with their queues as they report them, and the relay's queue PVCs. */
export async function readRelayQueues(
  client: KubeClient,
  relay: SmtpRelay,
  readQueue: QueueReader,
): Promise<{ pods: PodQueue[]; claims: string[] }> {
  const persistent = relay.spec.queue.storage === 'Persistent';
  const found = await Promise.all(
    (await listRelayPods(client, relay)).map(async (pod): Promise<PodQueue> => {
      const name = pod.metadata?.name ?? '';
      const ordinal = podOrdinal(relay, name);
      const claim = persistent && ordinal !== undefined ? queueClaimName(relay, ordinal) : undefined;
      const ip = pod.status?.phase === 'Running' ? pod.status.podIP : undefined;
      const report = ip === undefined ? undefined : await readQueue(ip, httpPort);
      return {
        name,
        ...(claim === undefined ? {} : { claim }),
        ...(report === undefined ? {} : { phase: report.phase, messages: report.messages }),
      };
    }),
  );
  found.sort((a, b) => a.name.localeCompare(b.name));
  if (!persistent) return { pods: found, claims: [] };
  return { pods: found, claims: [...(await listQueueClaims(client, relay)).values()].sort() };
}

export async function deleteClaim(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.request({ verb: 'delete', path: objectPath(claims, { namespace, name }) });
}
