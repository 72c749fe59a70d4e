// The queue's metrics, read from the spool at scrape time (no bookkeeping on the hot path).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LabelValues } from '../metrics.ts';
import { quarantineReasons, type QuarantineReason } from './quarantine.ts';
import type { Clock } from '../clock.ts';

export interface QueueMetricsSource {
  size(): number;
  oldestReceivedAt(): number | undefined;
  freeBytes(): number | undefined;
  readonly minFreeBytes: number;
  readonly directorySync: {
    readonly rounds: number;
    readonly directoryFsyncs: number;
    readonly requests: number;
  };
  readonly segmentLog: { readonly rounds: number; readonly appends: number; readonly segments: number };
  readonly quarantine: { counts(): Readonly<Record<QuarantineReason, number>> };
}

export const queueMetricNames = {
  messages: 'mailfleet_relay_queue_messages',
  oldestAge: 'mailfleet_relay_queue_oldest_message_age_seconds',
  commitRequests: 'mailfleet_relay_queue_commit_requests_total',
  directoryFsyncs: 'mailfleet_relay_queue_directory_fsyncs_total',
  filesystemFreeBytes: 'mailfleet_relay_queue_filesystem_free_bytes',
  minFreeBytes: 'mailfleet_relay_queue_min_free_bytes',
  segmentAppends: 'mailfleet_relay_queue_segment_appends_total',
  segmentSyncs: 'mailfleet_relay_queue_segment_syncs_total',
  segments: 'mailfleet_relay_queue_segments',
  quarantinedFiles: 'mailfleet_relay_queue_quarantined_files',
} as const;

/** The values of each bounded label, by metric (docs/relay-metrics.md and the monitoring tests read these). */
export const queueLabelValues = {
  [queueMetricNames.quarantinedFiles]: { reason: quarantineReasons },
} as const satisfies LabelValues;

/** A counter whose value is a running total kept elsewhere, read at scrape time. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createQueueMetrics(registry: Registry, spool: QueueMetricsSource, now: Clock): void {
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
  const runningTotals: readonly [name: string, help: string, read: () => number][] = [
    [
      queueMetricNames.commitRequests,
      'Directory commits requested since start (messages accepted, state files created, removals).',
      () => spool.directorySync.requests,
    ],
    [
      queueMetricNames.directoryFsyncs,
      'Directory fsyncs done since start; far below the requests when group commit works.',
      () => spool.directorySync.directoryFsyncs,
    ],
    [
      queueMetricNames.segmentAppends,
      'Messages appended to the segment log since start (each waits for a group fdatasync before 250).',
      () => spool.segmentLog.appends,
    ],
    [
      queueMetricNames.segmentSyncs,
      'Group-commit fdatasync rounds of the segment log since start; far below the appends under load.',
      () => spool.segmentLog.rounds,
    ],
  ];
  for (const [name, help, read] of runningTotals) totalCounter(registry, name, help, read);
  new Gauge({
    name: queueMetricNames.segments,
    help: 'Segment files in the spool; each is deleted once none of its messages is queued.',
    registers: [registry],
    collect() {
      this.set(spool.segmentLog.segments);
    },
  });
  new Gauge({
    name: queueMetricNames.filesystemFreeBytes,
    help: "Free bytes on the spool's filesystem at the last check; 0 when it failed (the relay then refuses mail as if full).",
    registers: [registry],
    collect() {
      this.set(spool.freeBytes() ?? 0);
    },
  });
  new Gauge({
    name: queueMetricNames.minFreeBytes,
    help: 'queue.minFreeBytes: below this much free space the relay refuses mail (452) and is not ready.',
    registers: [registry],
    collect() {
      this.set(spool.minFreeBytes);
    },
  });
  new Gauge({
    name: queueMetricNames.quarantinedFiles,
    help: 'Spool files in <queue.dir>/quarantine that this relay could not read (moved aside, never deleted), by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const counts = spool.quarantine.counts();
      for (const reason of quarantineReasons) this.set({ reason }, counts[reason]);
    },
  });
}
