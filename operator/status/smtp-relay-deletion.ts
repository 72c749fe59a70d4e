// What a deleted SmtpRelay's finalizer decides: wait while its pods (retired: refusing new mail,
// delivering what they hold) still report queued mail, or let the deletion go on once every queue is
// empty or spec.queue.deletionDrainTimeout has passed, and then which queue PVCs to delete and which to
// keep. Pure: the pods' reports come in as read from their /queuez, the PVCs as listed.
import type { SmtpRelay, SmtpRelayDeletion } from '../api/types.generated.ts';
import { parseDurationSeconds } from '../render/units.ts';

/** The finalizer that holds a deleted SmtpRelay until its pods have delivered what they hold. */
export const drainFinalizer = 'mailfleet.dev/drain-queue';

/** One relay pod as the operator found it: `messages` is undefined when its queue could not be read. */
export interface PodQueue {
  readonly name: string;
  /** The PVC name of its queue (`Persistent` storage). */
  readonly claim?: string;
  readonly phase?: string;
  readonly messages?: number;
}

export interface DeletionFindings {
  readonly relay: SmtpRelay;
  readonly pods: readonly PodQueue[];
  /** The relay's queue PVCs (every ordinal, scaled-away ones included). */
  readonly claims: readonly string[];
  readonly now: number;
}

export type DeletionDecision =
  | {
      readonly action: 'wait';
      readonly deletion: SmtpRelayDeletion;
      readonly requeueAfterMs: number;
      readonly message: string;
    }
  | {
      readonly action: 'release';
      /** `drained`: every pod reported an empty queue; `timedOut`: the bound passed first. */
      readonly outcome: 'drained' | 'timedOut';
      readonly heldMessages: number;
      /** PVCs to delete before the finalizer goes (whenDeleted: Delete, known empty). */
      readonly deleteClaims: readonly string[];
      /** PVCs kept although whenDeleted is Delete, with why. */
      readonly keptClaims: readonly { readonly claim: string; readonly why: string }[];
      readonly message: string;
    };

/** How often a waiting deletion reads the pods' queues again. */
export const deletionPollMs = 5_000;

export function deletionDeadline(relay: SmtpRelay): number {
  const since = Date.parse(relay.metadata.deletionTimestamp ?? '');
  return since + parseDurationSeconds(relay.spec.queue.deletionDrainTimeout) * 1000;
}

const isEmptyAndRetired = (pod: PodQueue) => pod.messages === 0 && pod.phase === 'retiring';

export function decideDeletion(findings: DeletionFindings): DeletionDecision {
  const { relay, pods, claims, now } = findings;
  const deadline = deletionDeadline(relay);
  const held = pods.filter((pod) => (pod.messages ?? 0) > 0);
  const heldMessages = held.reduce((sum, pod) => sum + (pod.messages ?? 0), 0);
  const unreachable = pods.filter((pod) => pod.messages === undefined);
  // A pod that still says `serving` has not read the retired config yet and may still accept mail.
  const notRetired = pods.filter((pod) => pod.messages !== undefined && pod.phase !== 'retiring');
  const drained = pods.every(isEmptyAndRetired);
  const describe = (list: readonly PodQueue[]) => list.map((pod) => pod.name).join(', ');

  if (!drained && now < deadline) {
    const waitingFor = [
      ...(held.length > 0 ? [`${heldMessages} messages in ${describe(held)}`] : []),
      ...(unreachable.length > 0 ? [`the queues of ${describe(unreachable)} (not readable)`] : []),
      ...(notRetired.length > 0 ? [`${describe(notRetired)} to read the retired config`] : []),
    ];
    return {
      action: 'wait',
      deletion: {
        deadline: new Date(deadline).toISOString(),
        heldMessages,
        podsHoldingMail: held.map((pod) => pod.name),
        unreachablePods: unreachable.map((pod) => pod.name),
      },
      requeueAfterMs: Math.max(1_000, Math.min(deletionPollMs, deadline - now)),
      message: `deletion waits for ${waitingFor.join(' and ')}, until ${new Date(deadline).toISOString()}`,
    };
  }

  const persistent = relay.spec.queue.storage === 'Persistent';
  const deleteWanted =
    persistent && relay.spec.queue.persistentVolumeClaimRetentionPolicy.whenDeleted === 'Delete';
  // A claim is known empty only when the pod that mounts it reported an empty queue after retiring.
  const emptyClaims = new Set(
    pods.filter(isEmptyAndRetired).flatMap((pod) => (pod.claim ? [pod.claim] : [])),
  );
  const keptClaims = !deleteWanted
    ? []
    : claims
        .filter((claim) => !emptyClaims.has(claim))
        .map((claim) => {
          const pod = pods.find((entry) => entry.claim === claim);
          const why =
            pod === undefined
              ? 'no pod mounts it, so what it holds is unknown'
              : pod.messages === undefined
                ? `its pod ${pod.name} could not be read`
                : `its pod ${pod.name} still held ${pod.messages} messages`;
          return { claim, why };
        });
  const deleteClaims = deleteWanted ? claims.filter((claim) => emptyClaims.has(claim)) : [];
  if (drained) {
    return {
      action: 'release',
      outcome: 'drained',
      heldMessages: 0,
      deleteClaims,
      keptClaims,
      message:
        pods.length === 0
          ? 'no relay pod is running, so none holds mail to wait for; deleting'
          : 'every relay pod delivered what it held; deleting',
    };
  }
  const left = [
    ...(held.length > 0 ? [`${heldMessages} messages in ${describe(held)}`] : []),
    ...(unreachable.length > 0 ? [`unread queues of ${describe(unreachable)}`] : []),
  ].join(' and ');
  const fate = persistent
    ? `kept on the PVCs ${claims.filter((claim) => !deleteClaims.includes(claim)).join(', ') || '(none)'}`
    : 'lost with the pods (Ephemeral storage)';
  return {
    action: 'release',
    outcome: 'timedOut',
    heldMessages,
    deleteClaims,
    keptClaims,
    message: `queue.deletionDrainTimeout passed with ${left || 'pods not yet retired'}: ${fate}; deleting`,
  };
}
