// Short leader-election timings so the hand-over tests take seconds, not the production 15 s.
export const electionTimings = {
  leaseDurationMs: 3_000,
  renewDeadlineMs: 2_000,
  retryPeriodMs: 250,
} as const;
