// What becomes of the queue PVCs of relay pods scaled away (`Persistent` storage). A pod that stops
// drains and hands its queue to its peers on SIGTERM, but whatever no peer took stays on its PVC. So
// once the pod is gone the operator runs a drain Job on that PVC (render/relay-drain-job.ts), keeps
// the finished Job as the record that the PVC is empty, deletes the PVC when whenScaled is Delete,
// and holds a scale-up back while a Job still drains the PVC the returning pod would mount (two
// relays must never share a spool). Pure: PVCs, pods and Jobs come in as listed.
import type { SmtpRelay, SmtpRelayScaledDownQueue } from '../api/types.generated.ts';

export interface DrainJobView {
  readonly name: string;
  readonly ordinal: number;
  readonly state: 'running' | 'succeeded' | 'failed';
}

export interface ScaleDownFindings {
  readonly relay: SmtpRelay;
  /** The relay's queue PVCs by ordinal. */
  readonly claims: ReadonlyMap<number, string>;
  /** Ordinals that have a pod (running or terminating). */
  readonly podOrdinals: ReadonlySet<number>;
  readonly jobs: readonly DrainJobView[];
}

export interface ScaleDownPlan {
  /** Ordinals whose PVC needs a drain Job now. */
  readonly createJobs: readonly number[];
  /** Finished Jobs that no longer record anything (their PVC is gone or mounted again). */
  readonly deleteJobs: readonly string[];
  /** Drained PVCs of scaled-away pods, with whenScaled: Delete. */
  readonly deleteClaims: readonly string[];
  /** The StatefulSet's replicas while a Job drains a PVC a scale-up would mount. */
  readonly holdReplicasAt: number | undefined;
  /** Every scaled-away queue that is not known empty and deleted, for the status. */
  readonly queues: readonly SmtpRelayScaledDownQueue[];
}

export const scaledDownStates = ['waiting', 'draining', 'drained', 'failed'] as const;
export type ScaledDownState = (typeof scaledDownStates)[number];

export function planScaleDown(findings: ScaleDownFindings): ScaleDownPlan {
  const { relay, claims, podOrdinals, jobs } = findings;
  const replicas = relay.spec.replicas;
  const deleteWhenDrained = relay.spec.queue.persistentVolumeClaimRetentionPolicy.whenScaled === 'Delete';
  const jobOf = new Map(jobs.map((job) => [job.ordinal, job]));
  const createJobs: number[] = [];
  const deleteJobs: string[] = [];
  const deleteClaims: string[] = [];
  const queues: SmtpRelayScaledDownQueue[] = [];
  let holdReplicasAt: number | undefined;

  for (const job of jobs) {
    if (!claims.has(job.ordinal) && job.state !== 'running') deleteJobs.push(job.name);
  }
  for (const [ordinal, claim] of [...claims].sort(([a], [b]) => a - b)) {
    const job = jobOf.get(ordinal);
    if (ordinal < replicas) {
      if (job?.state === 'running') {
        holdReplicasAt = Math.min(holdReplicasAt ?? ordinal, ordinal);
        queues.push({ claim, state: 'draining', message: `a scale-up waits for ${job.name} to empty it` });
      } else if (job !== undefined) deleteJobs.push(job.name);
      continue;
    }
    if (podOrdinals.has(ordinal)) {
      queues.push({ claim, state: 'waiting', message: 'its pod is still stopping (drain and hand-off)' });
    } else if (job === undefined) {
      createJobs.push(ordinal);
      queues.push({ claim, state: 'draining', message: 'a drain Job was started' });
    } else if (job.state === 'running') {
      queues.push({ claim, state: 'draining', message: `${job.name} is delivering and handing it off` });
    } else if (job.state === 'failed') {
      queues.push({
        claim,
        state: 'failed',
        message: `${job.name} failed: the PVC still holds mail; see the Job's logs, then delete the Job to try again`,
      });
    } else if (deleteWhenDrained) {
      // The Job's finished pod still counts as using the PVC (pvc-protection): it goes first.
      deleteJobs.push(job.name);
      deleteClaims.push(claim);
    } else {
      queues.push({
        claim,
        state: 'drained',
        message: `empty (${job.name}); kept for a scale-up (whenScaled: Retain)`,
      });
    }
  }
  return { createJobs, deleteJobs, deleteClaims, holdReplicasAt, queues };
}
