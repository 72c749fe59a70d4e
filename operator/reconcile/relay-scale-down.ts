// The I/O of the scaled-away queues (operator/status/smtp-relay-scale-down.ts decides): the relay's
// queue PVCs, pods and drain Jobs as listed, and the Jobs and PVCs the plan creates or deletes.
import type { SmtpRelay } from '../api/types.generated.ts';
import type { KubeClient } from '../kube/client.ts';
import { formatSelector } from '../kube/label-selector.ts';
import { collectionPath, objectPath, type KubeObject, type ResourceType } from '../kube/resource.ts';
import { drainJobSelector, drainOrdinalLabel, renderDrainJob } from '../render/relay-drain-job.ts';
import type { DrainJobView, ScaleDownFindings, ScaleDownPlan } from '../status/smtp-relay-scale-down.ts';
import { deleteClaim, listQueueClaims, listRelayPods, podOrdinal } from './relay-deletion.ts';

const jobs: ResourceType = { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true };

interface JobObject extends KubeObject {
  status?: { active?: number; conditions?: { type: string; status: string }[] };
}

function jobState(job: JobObject): DrainJobView['state'] {
  const done = (type: string) =>
    (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
  if (done('Complete')) return 'succeeded';
  return done('Failed') ? 'failed' : 'running';
}

export async function readScaleDown(client: KubeClient, relay: SmtpRelay): Promise<ScaleDownFindings> {
  const namespace = relay.metadata.namespace ?? '';
  const [claims, pods, jobList] = await Promise.all([
    listQueueClaims(client, relay),
    listRelayPods(client, relay),
    client.request<{ items: JobObject[] }>({
      verb: 'list',
      path: collectionPath(jobs, namespace),
      query: { labelSelector: formatSelector({ matchLabels: drainJobSelector(relay) }) },
    }),
  ]);
  const podOrdinals = new Set(
    pods.flatMap((pod) => {
      const ordinal = podOrdinal(relay, pod.metadata?.name ?? '');
      return ordinal === undefined ? [] : [ordinal];
    }),
  );
  return {
    relay,
    claims,
    podOrdinals,
    jobs: jobList.items.flatMap((job) => {
      const ordinal = Number(job.metadata?.labels?.[drainOrdinalLabel] ?? 'NaN');
      return Number.isInteger(ordinal)
        ? [{ name: job.metadata?.name ?? '', ordinal, state: jobState(job) }]
        : [];
    }),
  };
}

/** Creates and deletes what the plan says; `statefulSet` is the StatefulSet as rendered now. */
export async function carryOutScaleDown(
  client: KubeClient,
  relay: SmtpRelay,
  plan: ScaleDownPlan,
  statefulSet: KubeObject,
): Promise<void> {
  const namespace = relay.metadata.namespace ?? '';
  for (const ordinal of plan.createJobs) {
    await client.request({
      verb: 'create',
      path: collectionPath(jobs, namespace),
      body: renderDrainJob(relay, statefulSet, ordinal),
    });
  }
  for (const name of plan.deleteJobs) {
    await client.request({
      verb: 'delete',
      path: objectPath(jobs, { namespace, name }),
      query: { propagationPolicy: 'Background' },
    });
  }
  for (const claim of plan.deleteClaims) await deleteClaim(client, namespace, claim);
}
