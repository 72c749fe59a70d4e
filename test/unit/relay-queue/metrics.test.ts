import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createQueueMetrics } from '../../../relay/queue/metrics.ts';

test('queue metrics read size, oldest age, commit counters and free space at scrape time', async () => {
  const registry = new Registry();
  const source = {
    size: () => 3,
    oldestReceivedAt: (): number | undefined => 10_000,
    freeBytes: (): number | undefined => 5_000_000,
    minFreeBytes: 1_000_000,
    directorySync: { rounds: 2, directoryFsyncs: 4, requests: 40 },
    segmentLog: { rounds: 7, appends: 90, segments: 2 },
    quarantine: { counts: () => ({ unparseable: 5, future_version: 0 }) },
  };
  createQueueMetrics(registry, source, () => 70_000);
  const text = await registry.metrics();
  const table: readonly [string, string][] = [
    ['mailfleet_relay_queue_messages', '3'],
    ['mailfleet_relay_queue_oldest_message_age_seconds', '60'],
    ['mailfleet_relay_queue_commit_requests_total', '40'],
    ['mailfleet_relay_queue_directory_fsyncs_total', '4'],
    ['mailfleet_relay_queue_segment_appends_total', '90'],
    ['mailfleet_relay_queue_segment_syncs_total', '7'],
    ['mailfleet_relay_queue_segments', '2'],
    ['mailfleet_relay_queue_filesystem_free_bytes', '5000000'],
    ['mailfleet_relay_queue_min_free_bytes', '1000000'],
    ['mailfleet_relay_queue_quarantined_files{reason="unparseable"}', '5'],
    ['mailfleet_relay_queue_quarantined_files{reason="future_version"}', '0'],
  ];
  for (const [name, value] of table) assert.match(text, new RegExp(`^${name} ${value}$`, 'm'));
  source.oldestReceivedAt = () => undefined;
  source.freeBytes = () => undefined;
  const afterFailedCheck = await registry.metrics();
  assert.match(afterFailedCheck, /^mailfleet_relay_queue_oldest_message_age_seconds 0$/m);
  assert.match(afterFailedCheck, /^mailfleet_relay_queue_filesystem_free_bytes 0$/m);
});
