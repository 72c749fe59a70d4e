// The queue's metrics, read from the spool at scrape time (no bookkeeping on the hot path).
import { Gauge, type Registry } from 'prom-client';

export interface QueueMetricsSource {
  size(): number;
  oldestReceivedAt(): number | undefined;
  readonly directorySync: {
    readonly rounds: number;
    readonly directoryFsyncs: number;
    readonly requests: number;
  };
}

export const queueMetricNames = {
  messages: 'mailfleet_relay_queue_messages',
  oldestAge: 'mailfleet_relay_queue_oldest_message_age_seconds',
  commitRequests: 'mailfleet_relay_queue_commit_requests',
  directoryFsyncs: 'mailfleet_relay_queue_directory_fsyncs',
} as const;

export function createQueueMetrics(registry: Registry, spool: QueueMetricsSource, now: () => number): void {
  new Gauge({
    name: queueMetricNames.messages,
    help: 'Messages in the spool with at least one recipient not yet delivered or bounced.',
    registers: [registry],
    collect() {
      this.set(spool.size());
    },
  });
  new Gauge({
    name: queueMetricNames.oldestAge,
    help: 'Age of the oldest message in the spool (0 when empty).',
    registers: [registry],
    collect() {
      const oldest = spool.oldestReceivedAt();
      this.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });
  new Gauge({
    name: queueMetricNames.commitRequests,
    help: 'Directory commits requested since start (messages accepted, state files created, removals).',
    registers: [registry],
    collect() {
      this.set(spool.directorySync.requests);
    },
  });
  new Gauge({
    name: queueMetricNames.directoryFsyncs,
    help: 'Directory fsyncs done since start; far below the requests when group commit works.',
    registers: [registry],
    collect() {
      this.set(spool.directorySync.directoryFsyncs);
    },
  });
}
