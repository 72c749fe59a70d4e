// The queue's metrics, read from the spool at scrape time (no bookkeeping on the hot path).
import { Gauge, type Registry } from 'prom-client';
import { quarantineReasons, type QuarantineReason } from './quarantine.ts';

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
  commitRequests: 'mailfleet_relay_queue_commit_requests',
  directoryFsyncs: 'mailfleet_relay_queue_directory_fsyncs',
  filesystemFreeBytes: 'mailfleet_relay_queue_filesystem_free_bytes',
  minFreeBytes: 'mailfleet_relay_queue_min_free_bytes',
  segmentAppends: 'mailfleet_relay_queue_segment_appends',
  segmentSyncs: 'mailfleet_relay_queue_segment_syncs',
  segments: 'mailfleet_relay_queue_segments',
  quarantinedFiles: 'mailfleet_relay_queue_quarantined_files',
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
  new Gauge({
    name: queueMetricNames.segmentAppends,
    help: 'Messages appended to the segment log since start (each waits for a group fdatasync before 250).',
    registers: [registry],
    collect() {
      this.set(spool.segmentLog.appends);
    },
  });
  new Gauge({
    name: queueMetricNames.segmentSyncs,
    help: 'Group-commit fdatasync rounds of the segment log since start; far below the appends under load.',
    registers: [registry],
    collect() {
      this.set(spool.segmentLog.rounds);
    },
  });
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
