// The next status of an object and whether it differs from the current one. Pure: the time of a
// condition's transition comes in as a parameter.
import { canonicalJson } from './object-compare.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface ObjectStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/** What the reconciler wants the status to say; transition times and the generation are filled in. */
export interface DesiredStatus {
  conditions?: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>[];
  [field: string]: unknown;
}

/** RFC 3339 to the second, the precision of metav1.Time. */
export function kubeTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1_000) * 1_000).toISOString().replace('.000Z', 'Z');
}

export function nextStatus(
  current: ObjectStatus | undefined,
  desired: DesiredStatus,
  generation: number,
  nowMs: number,
): ObjectStatus {
  const previous = new Map((current?.conditions ?? []).map((condition) => [condition.type, condition]));
  const status: ObjectStatus = { ...desired, observedGeneration: generation };
  if (desired.conditions !== undefined) {
    status.conditions = desired.conditions.map((condition) => {
      const before = previous.get(condition.type);
      const lastTransitionTime =
        before?.status === condition.status && before.lastTransitionTime !== undefined
          ? before.lastTransitionTime
          : kubeTime(nowMs);
      return { ...condition, lastTransitionTime, observedGeneration: generation };
    });
  } else {
    delete status.conditions;
  }
  return status;
}

/** Equal up to key order and the order of conditions. */
export function sameStatus(a: ObjectStatus | undefined, b: ObjectStatus | undefined): boolean {
  return canonicalJson(normalise(a)) === canonicalJson(normalise(b));
}

function normalise(status: ObjectStatus | undefined): ObjectStatus {
  if (status === undefined) return {};
  if (status.conditions === undefined) return status;
  const conditions = [...status.conditions].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return { ...status, conditions };
}
