// A spool's start: the only time the disk is scanned. openSpoolDirectory checks the format, recovers
// both stores and makes every directory it created durable; indexRecovered then puts what was found
// into the in-memory index and hands the segments back to the segment log.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openQuarantine, type Quarantine } from './quarantine.ts';
import type { QueueIndex } from './queue-index.ts';
import { initialRecipients } from './queued-message.ts';
import { ensureShards, recoverSpool, type RecoveryReport } from './recover.ts';
import { SegmentLog, segmentsDirectoryName, syncDirectory } from './segment-log.ts';
import { recoverSegments, type SegmentRecovery } from './segment-recover.ts';
import { checkSpoolFormat } from './spool-version.ts';

const maxSegmentBytes = 16 * 1024 * 1024;

export interface SpoolRecovery extends RecoveryReport {
  readonly segmentMessages: number;
  readonly tornSegments: number;
  /** Files of a newer-format spool moved to quarantine/future_version (queue.quarantineNewerSpool). */
  readonly quarantinedNewerSpool: number;
}

export interface SpoolDirectory {
  readonly recovery: SpoolRecovery;
  readonly segmentRecovery: SegmentRecovery;
  readonly quarantine: Quarantine;
  /** The segment log, taking new messages in a segment after every recovered one. */
  readonly log: SegmentLog;
}

export async function openSpoolDirectory(
  dir: string,
  quarantineNewerSpool: boolean,
  commitDelayMs: number,
): Promise<SpoolDirectory> {
  await ensureShards(dir);
  const quarantinedNewerSpool = await checkSpoolFormat(dir, quarantineNewerSpool);
  const recovery = await recoverSpool(dir);
  const quarantine = await openQuarantine(dir);
  const segmentsDir = join(dir, segmentsDirectoryName);
  await mkdir(segmentsDir, { recursive: true });
  // A directory openSpool made (the spool, its shards, segments/, quarantine/) is on disk only once
  // its parent is synced: without this a power cut after the first 250 could lose segments/ and every
  // message in it (the power-loss test found it). The parent of the spool is synced when it allows.
  await syncDirectory(dir);
  await syncDirectory(dirname(dir)).catch(() => undefined);
  const segmentRecovery = await recoverSegments(segmentsDir);
  return {
    recovery: {
      ...recovery,
      segmentMessages: segmentRecovery.messages.length,
      tornSegments: segmentRecovery.tornSegments,
      quarantinedNewerSpool,
    },
    segmentRecovery,
    quarantine,
    log: new SegmentLog(segmentsDir, maxSegmentBytes, segmentRecovery.nextSequence, commitDelayMs),
  };
}

/**
 * Indexes the recovered messages, files first. The segment log adopts each recovered segment; a
 * message found in both stores (moved to a file of its own just before a crash) is taken from its
 * file, the newer state, and marked done in its segment.
 */
export function indexRecovered(index: QueueIndex, { recovery, segmentRecovery, log }: SpoolDirectory): void {
  for (const { message, bodyOffset, hasLog } of recovery.messages) {
    index.add(message, { segment: undefined, bodyOffset, hasLog });
  }
  const segments = new Map(
    segmentRecovery.segments.map(({ sequence, validBytes, live }) => [
      sequence,
      log.adopt(sequence, validBytes, live),
    ]),
  );
  for (const found of segmentRecovery.messages) {
    const segment = segments.get(found.sequence);
    if (segment === undefined) continue;
    if (index.has(found.queueId)) {
      log.done(segment, found.queueId);
      continue;
    }
    const message = {
      queueId: found.queueId,
      envelope: found.envelope,
      size: found.bodyLength,
      recipients: initialRecipients(found.envelope),
    };
    index.add(message, { segment, bodyOffset: found.bodyStart, hasLog: false });
  }
}
