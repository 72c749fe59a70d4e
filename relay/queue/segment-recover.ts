// Start-up recovery of the segment log: each segment is read once, its message records minus its
// done records are the messages still queued in it. Nothing is rewritten; the segments are adopted
// as they are and new messages go to a new segment.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InboundEnvelope } from './message-sink.ts';
import { decodeSegment } from './segment-format.ts';
import { segmentFileName, segmentSequence } from './segment-log.ts';

export interface RecoveredSegmentMessage {
  readonly queueId: string;
  readonly envelope: InboundEnvelope;
  readonly sequence: number;
  readonly bodyStart: number;
  readonly bodyLength: number;
}

export interface RecoveredSegment {
  readonly sequence: number;
  /** Bytes of whole records; a torn tail after them is cut off when the segment is adopted. */
  readonly validBytes: number;
  readonly live: number;
}

export interface SegmentRecovery {
  readonly messages: RecoveredSegmentMessage[];
  readonly segments: RecoveredSegment[];
  readonly nextSequence: number;
  /** Segments whose end was a torn or corrupt record (a crash mid-append of an unacknowledged one). */
  readonly tornSegments: number;
}

export async function recoverSegments(dir: string): Promise<SegmentRecovery> {
  await mkdir(dir, { recursive: true });
  const sequences = (await readdir(dir))
    .map(segmentSequence)
    .filter((sequence) => sequence !== undefined)
    .sort((a, b) => a - b);
  const messages: RecoveredSegmentMessage[] = [];
  const segments: RecoveredSegment[] = [];
  let tornSegments = 0;
  for (const sequence of sequences) {
    const bytes = await readFile(join(dir, segmentFileName(sequence)));
    const decoded = decodeSegment(bytes);
    if (decoded.validBytes < bytes.length) tornSegments += 1;
    const live = new Map<string, RecoveredSegmentMessage>();
    for (const record of decoded.records) {
      if (record.kind === 'done') live.delete(record.queueId);
      else live.set(record.queueId, { ...record, sequence });
    }
    messages.push(...live.values());
    segments.push({ sequence, validBytes: decoded.validBytes, live: live.size });
  }
  return { messages, segments, nextSequence: (sequences.at(-1) ?? 0) + 1, tornSegments };
}
