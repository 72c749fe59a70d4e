// When a relay is ready, and the gauge that says so: read by /readyz (health.ts) and at each scrape.
import { Gauge, type Registry } from 'prom-client';

export type Phase = 'starting' | 'serving' | 'retiring' | 'draining';

export interface HealthState {
  phase: Phase;
}

export function isReady(state: HealthState, hasSpace: () => boolean): boolean {
  return state.phase === 'serving' && hasSpace();
}

export const readyMetricName = 'mailfleet_relay_ready';

/** 1 while /readyz answers 200, read at scrape time: a pod out of its Service shows up in Prometheus. */
export function createReadinessMetric(registry: Registry, state: HealthState, hasSpace: () => boolean): void {
  new Gauge({
    name: readyMetricName,
    help: '1 while the relay is ready (serving, spool has disk space), 0 while starting, retired, draining or out of disk.',
    registers: [registry],
    collect() {
      this.set(isReady(state, hasSpace) ? 1 : 0);
    },
  });
}
