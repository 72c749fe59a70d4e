// Leader election decisions on a coordination.k8s.io/v1 Lease, in the manner of client-go: expiry is
// judged by when this candidate last saw the record change on its own clock (never by comparing
// clocks across machines), and a released lease (no holder) can be taken at once. Pure.

/** Where the lease is and its timings: read from the flags (options.ts), used by the elector. */
export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/**
 * What is wrong with timings under which two replicas could lead at once (undefined when they are
 * sound): 0 < retry period < renew deadline < lease duration, as client-go requires.
 */
export function leaderElectionTimingsProblem(config: LeaderElectionConfig): string | undefined {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = config;
  if (retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)
    return undefined;
  return `leader election needs 0 < --retry-period < --renew-deadline < --lease-duration, got ${retryPeriodMs / 1_000} s, ${renewDeadlineMs / 1_000} s, ${leaseDurationMs / 1_000} s`;
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObservation {
  /** The spec as last read, undefined when the Lease does not exist. */
  readonly spec: LeaseSpec | undefined;
  /** When (on the local clock) the spec was last seen to change. */
  readonly observedAt: number;
}

export type LeaseDecision =
  | { readonly action: 'create' | 'renew' | 'take'; readonly spec: LeaseSpec }
  | { readonly action: 'wait'; readonly holder: string };

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/Z$/, '000Z');
}

export function decideLease(
  observation: LeaseObservation,
  identity: string,
  now: number,
  leaseDurationMs: number,
): LeaseDecision {
  const stamp = microTime(now);
  const durationSeconds = Math.ceil(leaseDurationMs / 1_000);
  const current = observation.spec;
  if (current === undefined) {
    return {
      action: 'create',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: 0,
      },
    };
  }
  const holder = current.holderIdentity ?? '';
  if (holder === identity) {
    return { action: 'renew', spec: { ...current, leaseDurationSeconds: durationSeconds, renewTime: stamp } };
  }
  const heldFor = (current.leaseDurationSeconds ?? durationSeconds) * 1_000;
  if (holder === '' || observation.observedAt + heldFor <= now) {
    return {
      action: 'take',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: (current.leaseTransitions ?? 0) + 1,
      },
    };
  }
  return { action: 'wait', holder };
}

/** The spec that hands the lease back on shutdown, so a standby need not wait for it to expire. */
export function releasedLease(current: LeaseSpec, now: number): LeaseSpec {
  return { ...current, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) };
}

/** Whether two reads show the same record: a holder that renews changes renewTime each time. */
export function sameLeaseRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseTransitions === b.leaseTransitions &&
    a.leaseDurationSeconds === b.leaseDurationSeconds
  );
}
