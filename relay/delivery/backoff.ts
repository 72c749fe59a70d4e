// Retry schedule: exponential from the initial delay, capped, with ±25% jitter so that a fleet of
// messages deferred together does not come back together. Randomness is a parameter.
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Delay before attempt `attempts + 1`, given `attempts` made so far (1 or more); random() in [0, 1). */
export function retryDelayMs(attempts: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(base * (0.75 + 0.5 * random()));
}
