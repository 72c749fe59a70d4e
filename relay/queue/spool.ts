// The durable queue, in two stores. A message up to segmentMessageMaxBytes (nearly all mail) is
// appended as one record to the segment log (segment-log.ts), and many messages share one
// fdatasync (group commit). A larger one streams to a file of its own (message-draft.ts), and so
// does a message once its first attempt leaves recipients deferred: the long-lived queue is a file
// per message with an append-only state log, and segments only hold messages on their first
// attempt, so they empty and are deleted quickly. Delivery leases due messages from an in-memory
// index rebuilt from both stores at start.
import { createReadStream, unlinkSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { BodyCache } from './body-cache.ts';
import { createDirectorySync, type DirectorySync } from './directory-sync.ts';
import { statfsFreeBytes, watchFreeSpace, type FreeBytesProbe } from './disk-space.ts';
import { DueHeap } from './due-heap.ts';
import { MessageDraft } from './message-draft.ts';
import type { AcceptedMessage, InboundEnvelope, MessageSink, SpoolDraft } from './message-sink.ts';
import { createQueueIdSource, isQueueId, shardOf } from './queue-id.ts';
import { pooledRandomHex } from './random-pool.ts';
import {
  applyUpdates,
  initialRecipients,
  isFinal,
  nextDueAt,
  type QueuedMessage,
  type RecipientUpdate,
} from './queued-message.ts';
import { openQuarantine, type Quarantine } from './quarantine.ts';
import { ensureShards, recoverSpool, type RecoveryReport } from './recover.ts';
import { encodeMessageRecord } from './segment-format.ts';
import { SegmentLog, segmentsDirectoryName, syncDirectory, type Segment } from './segment-log.ts';
import { recoverSegments } from './segment-recover.ts';
import { encodeHeader, encodeUpdate } from './spool-format.ts';
import { checkSpoolFormat } from './spool-version.ts';
import type { Clock } from '../clock.ts';

export { segmentsDirectoryName } from './segment-log.ts';

export interface SpoolOptions {
  readonly dir: string;
  readonly minFreeBytes: number;
  readonly now: Clock;
  readonly freeBytes?: FreeBytesProbe;
  readonly spaceCheckIntervalMs?: number;
  /** Memory for the bodies of messages waiting for their first delivery attempt (default 32 MiB). */
  readonly bodyCacheBytes?: number;
  /** queue.quarantineNewerSpool: quarantine a spool of a newer format instead of refusing to start. */
  readonly quarantineNewerSpool?: boolean;
}

/** Buffered body bytes written out before the end of a message that gets a file of its own. */
const draftFlushBytes = 64 * 1024;
/** Messages up to this size are buffered, appended to the segment log and kept in memory for their first attempt. */
const segmentMessageMaxBytes = 256 * 1024;
const maxSegmentBytes = 16 * 1024 * 1024;

export interface QueueListFilter {
  readonly sender?: string;
  readonly recipient?: string;
  readonly status?: 'pending' | 'deferred';
  readonly olderThanMs?: number;
}

export interface Spool extends MessageSink {
  readonly dir: string;
  readonly recovery: RecoveryReport & {
    readonly segmentMessages: number;
    readonly tornSegments: number;
    /** Files of a newer-format spool moved to quarantine/future_version (queue.quarantineNewerSpool). */
    readonly quarantinedNewerSpool: number;
  };
  readonly quarantine: Quarantine;
  readonly directorySync: DirectorySync['stats'];
  readonly segmentLog: SegmentLog['stats'];
  readonly minFreeBytes: number;
  size(): number;
  oldestReceivedAt(): number | undefined;
  /** Free bytes on the spool's filesystem at the last check (every few seconds). */
  freeBytes(): number | undefined;
  /** Due messages not already leased, earliest first; each stays leased until complete()/release(). */
  leaseDue(limit: number): QueuedMessage[];
  /** Epoch ms when the next unleased message falls due, or undefined when none waits. */
  nextDueAt(): number | undefined;
  /** Called whenever a message becomes due earlier than before (new, released, retried). */
  onDue(listener: () => void): () => void;
  /** Durably records outcomes, ends the lease, and removes the message once every recipient is final. */
  complete(queueId: string, updates: readonly RecipientUpdate[]): Promise<void>;
  /** Ends the lease without recording anything; the message is not due again before notBefore (in memory only). */
  release(queueId: string, notBefore?: number): void;
  /** The body as received (headers included), streamed from disk. */
  openBody(queueId: string): Readable;
  /** The body, when it is still held in memory for its first delivery attempt. */
  keptBody(queueId: string): Buffer | undefined;
  /** The header section of the body, at most maxBytes. */
  readHeaderSection(queueId: string, maxBytes: number): Promise<Buffer>;
  list(filter?: QueueListFilter): QueuedMessage[];
  show(queueId: string): QueuedMessage | undefined;
  /** Makes deferred recipients due now; all messages when no id is given. Returns how many. */
  retryNow(queueId?: string): number;
  remove(queueId: string): Promise<boolean>;
  close(): void;
}

interface Entry {
  message: QueuedMessage;
  /** Where the body starts: in the message's own file, or in its segment. */
  bodyOffset: number;
  /** The segment holding the message, while it is in the segment log. */
  segment: Segment | undefined;
  hasLog: boolean;
  leased: boolean;
  dueAt: number | undefined;
  heldUntil: number;
}

export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, now } = options;
  await ensureShards(dir);
  const quarantinedNewerSpool = await checkSpoolFormat(dir, options.quarantineNewerSpool ?? false);
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
  const log = new SegmentLog(segmentsDir, maxSegmentBytes, segmentRecovery.nextSequence);
  const entries = new Map<string, Entry>();
  const heap = new DueHeap();
  const listeners = new Set<() => void>();
  const directorySync = createDirectorySync();
  const ids = createQueueIdSource(now, pooledRandomHex(5));
  const bodies = new BodyCache(options.bodyCacheBytes ?? 32 * 1024 * 1024);
  const space = watchFreeSpace(
    dir,
    options.minFreeBytes,
    options.freeBytes ?? statfsFreeBytes,
    options.spaceCheckIntervalMs ?? 2000,
  );
  await space.refresh();

  const pathOf = (queueId: string, suffix: string): string =>
    join(dir, shardOf(queueId), `${queueId}${suffix}`);
  const schedule = (queueId: string, entry: Entry): void => {
    const due = nextDueAt(entry.message.recipients);
    entry.dueAt = due === undefined ? undefined : Math.max(due, entry.heldUntil);
    if (entry.dueAt === undefined || entry.leased) return;
    heap.push({ dueAt: entry.dueAt, queueId });
    for (const listener of listeners) listener();
  };
  const requireEntry = (queueId: string): Entry => {
    const entry = entries.get(queueId);
    if (entry === undefined) throw new Error(`queue id ${queueId} is not in the queue`);
    return entry;
  };

  const newEntry = (message: QueuedMessage, bodyOffset: number, segment?: Segment): Entry => ({
    message,
    bodyOffset,
    segment,
    hasLog: false,
    leased: false,
    dueAt: undefined,
    heldUntil: 0,
  });
  for (const { message, bodyOffset, hasLog } of recovery.messages) {
    const entry = { ...newEntry(message, bodyOffset), hasLog };
    entries.set(message.queueId, entry);
    schedule(message.queueId, entry);
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
    // Moved to a file of its own just before a crash: the file is the newer state.
    if (entries.has(found.queueId)) {
      log.done(segment, found.queueId);
      continue;
    }
    const message: QueuedMessage = {
      queueId: found.queueId,
      envelope: found.envelope,
      size: found.bodyLength,
      recipients: initialRecipients(found.envelope),
    };
    const entry = newEntry(message, found.bodyStart, segment);
    entries.set(found.queueId, entry);
    schedule(found.queueId, entry);
  }

  async function forget(queueId: string, entry: Entry): Promise<void> {
    entries.delete(queueId);
    bodies.drop(queueId);
    if (entry.segment !== undefined) {
      log.done(entry.segment, queueId);
      return;
    }
    unlinkIfPresent(pathOf(queueId, '.msg'));
    if (entry.hasLog) unlinkIfPresent(pathOf(queueId, '.log'));
    await directorySync.sync(join(dir, shardOf(queueId)));
  }

  /** A write that failed for want of space is a SpoolFullError (452 4.3.1), and space is checked anew. */
  function spoolError(error: unknown, queueId: string): unknown {
    if (!isOutOfSpace(error)) return error;
    void space.refresh();
    return new SpoolFullError(`spool ${dir} ran out of space while writing ${queueId}`, { cause: error });
  }

  function begin(queueId: string, envelope: InboundEnvelope): SpoolDraft {
    if (!isQueueId(queueId) || entries.has(queueId))
      throw new Error(`queue id ${queueId} is invalid or in use`);
    if (!space.hasSpace())
      throw new SpoolFullError(`spool ${dir} has less than ${options.minFreeBytes} bytes free`);
    // Buffered while it fits a segment record; past that, the message gets a file of its own.
    let buffered: Buffer[] | undefined = [];
    let bufferedBytes = 0;
    let file: MessageDraft | undefined;
    const failed = (error: unknown): never => {
      buffered = undefined;
      file?.discard();
      throw spoolError(error, queueId);
    };
    const register = (entry: Entry): AcceptedMessage => {
      entries.set(queueId, entry);
      schedule(queueId, entry);
      return { queueId, size: entry.message.size };
    };
    const queued = (size: number): QueuedMessage => ({
      queueId,
      envelope,
      size,
      recipients: initialRecipients(envelope),
    });
    return {
      write(chunk) {
        if (chunk.length === 0) return;
        try {
          if (buffered === undefined) {
            if (file === undefined) throw new Error(`write to ${queueId} after commit or discard`);
            file.write(chunk);
            return;
          }
          buffered.push(chunk);
          bufferedBytes += chunk.length;
          if (bufferedBytes <= segmentMessageMaxBytes) return;
          file = fileDraft(queueId, envelope);
          for (const piece of buffered) file.write(piece);
          buffered = undefined;
        } catch (error) {
          failed(error);
        }
      },
      async commit() {
        if (entries.has(queueId)) throw new Error(`queue id ${queueId} is in use`);
        if (file !== undefined) {
          const size = await file.commit().catch(failed);
          return register(newEntry(queued(size), encodeHeader(envelope).length));
        }
        if (buffered === undefined) throw new Error(`commit of ${queueId} after discard`);
        const body = Buffer.concat(buffered, bufferedBytes);
        buffered = undefined;
        const record = encodeMessageRecord(queueId, envelope, body);
        let placed: ReturnType<SegmentLog['appendMessage']>;
        try {
          placed = log.appendMessage(record);
        } catch (error) {
          return failed(error);
        }
        try {
          await log.durable();
        } catch (error) {
          log.done(placed.segment, queueId);
          return failed(error);
        }
        const bodyStart = placed.offset + record.reduce((sum, piece) => sum + piece.length, 0) - body.length;
        const accepted = register(newEntry(queued(body.length), bodyStart, placed.segment));
        bodies.keep(queueId, body);
        return accepted;
      },
      discard() {
        buffered = undefined;
        file?.discard();
      },
    };
  }

  function fileDraft(queueId: string, envelope: InboundEnvelope): MessageDraft {
    const shard = join(dir, shardOf(queueId));
    return new MessageDraft({
      paths: { temporary: pathOf(queueId, '.tmp'), committed: pathOf(queueId, '.msg') },
      header: encodeHeader(envelope),
      flushBytes: draftFlushBytes,
      syncDirectory: () => directorySync.sync(shard),
    });
  }

  /**
   * A message whose first attempt left recipients to retry leaves the segment log for a file of its
   * own with a state log: the state log is written first, and the message file's rename is the
   * moment both count (recovery deletes a state log without its message). Only then is the segment
   * told the message left it.
   */
  async function moveToFile(
    queueId: string,
    entry: Entry,
    updates: readonly RecipientUpdate[],
  ): Promise<void> {
    const segment = entry.segment;
    if (segment === undefined) return;
    const body = bodies.get(queueId) ?? (await readSegmentBody(segment, entry));
    const state = await open(pathOf(queueId, '.log'), 'w');
    try {
      await state.write(updates.map(encodeUpdate).join(''));
      await state.sync();
    } finally {
      await state.close();
    }
    const draft = fileDraft(queueId, entry.message.envelope);
    try {
      draft.write(body);
      await draft.commit();
    } catch (error) {
      unlinkIfPresent(pathOf(queueId, '.log'));
      throw error;
    }
    log.done(segment, queueId);
    entry.segment = undefined;
    entry.bodyOffset = encodeHeader(entry.message.envelope).length;
    entry.hasLog = true;
  }

  async function readSegmentBody(segment: Segment, entry: Entry): Promise<Buffer> {
    const handle = await open(segment.path, 'r');
    try {
      const body = Buffer.alloc(entry.message.size);
      const { bytesRead } = await handle.read(body, 0, body.length, entry.bodyOffset);
      if (bytesRead !== body.length) throw new Error(`segment ${segment.path} ends inside a message`);
      return body;
    } finally {
      await handle.close();
    }
  }

  return {
    dir,
    recovery: {
      ...recovery,
      segmentMessages: segmentRecovery.messages.length,
      tornSegments: segmentRecovery.tornSegments,
      quarantinedNewerSpool,
    },
    quarantine,
    directorySync: directorySync.stats,
    segmentLog: log.stats,
    newQueueId: () => ids.next(),
    hasSpace: () => space.hasSpace(),
    minFreeBytes: options.minFreeBytes,
    freeBytes: () => space.freeBytes(),

    begin,

    async accept(queueId: string, envelope: InboundEnvelope, body: Readable) {
      const draft = begin(queueId, envelope);
      try {
        for await (const chunk of body)
          draft.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      } catch (error) {
        draft.discard();
        throw spoolError(error, queueId);
      }
      return draft.commit();
    },

    size: () => entries.size,
    oldestReceivedAt() {
      let oldest: number | undefined;
      for (const { message } of entries.values()) {
        if (oldest === undefined || message.envelope.receivedAt < oldest)
          oldest = message.envelope.receivedAt;
      }
      return oldest;
    },

    leaseDue(limit) {
      const leased: QueuedMessage[] = [];
      const time = now();
      while (leased.length < limit) {
        const top = heap.peek();
        if (top === undefined || top.dueAt > time) break;
        heap.pop();
        const entry = entries.get(top.queueId);
        if (entry === undefined || entry.leased || entry.dueAt !== top.dueAt) continue;
        entry.leased = true;
        leased.push(entry.message);
      }
      return leased;
    },

    nextDueAt() {
      for (;;) {
        const top = heap.peek();
        if (top === undefined) return undefined;
        const entry = entries.get(top.queueId);
        if (entry !== undefined && !entry.leased && entry.dueAt === top.dueAt) return top.dueAt;
        heap.pop();
      }
    },

    onDue(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async complete(queueId, updates) {
      const entry = entries.get(queueId);
      if (entry === undefined) return;
      const recipients = applyUpdates(entry.message.recipients, updates);
      entry.message = { ...entry.message, recipients };
      entry.leased = false;
      if (recipients.every((state) => isFinal(state.status))) {
        await forget(queueId, entry);
        return;
      }
      if (updates.length > 0 && entry.segment !== undefined) {
        // On a full disk the message stays in its segment and its new state is kept in memory until
        // a later attempt can move it (a crash meanwhile retries it at once: duplicates, no loss).
        if (space.hasSpace()) await moveToFile(queueId, entry, updates);
      } else if (updates.length > 0) {
        const created = !entry.hasLog;
        const handle = await open(pathOf(queueId, '.log'), 'a');
        try {
          await handle.write(updates.map(encodeUpdate).join(''));
          await handle.sync();
        } finally {
          await handle.close();
        }
        entry.hasLog = true;
        if (created) await directorySync.sync(join(dir, shardOf(queueId)));
      }
      // A retry comes later, if at all: the first attempt was what the kept body was for.
      bodies.drop(queueId);
      schedule(queueId, entry);
    },

    release(queueId, notBefore = 0) {
      const entry = entries.get(queueId);
      if (entry === undefined) return;
      entry.leased = false;
      entry.heldUntil = notBefore;
      schedule(queueId, entry);
    },

    keptBody(queueId) {
      return bodies.get(queueId);
    },

    openBody(queueId) {
      const entry = requireEntry(queueId);
      const kept = bodies.get(queueId);
      if (kept !== undefined) return Readable.from([kept], { objectMode: false });
      if (entry.message.size === 0) return Readable.from([], { objectMode: false });
      const path = entry.segment?.path ?? pathOf(queueId, '.msg');
      const end = entry.bodyOffset + entry.message.size - 1;
      return createReadStream(path, { start: entry.bodyOffset, end, highWaterMark: 65536 });
    },

    async readHeaderSection(queueId, maxBytes) {
      const entry = requireEntry(queueId);
      const kept = bodies.get(queueId);
      if (kept !== undefined) return headerSection(kept.subarray(0, maxBytes));
      const handle = await open(entry.segment?.path ?? pathOf(queueId, '.msg'), 'r');
      try {
        const buffer = Buffer.alloc(Math.min(maxBytes, entry.message.size));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, entry.bodyOffset);
        return headerSection(buffer.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    },

    list(filter = {}) {
      const time = now();
      const matches: QueuedMessage[] = [];
      for (const { message } of entries.values()) {
        if (matchesFilter(message, filter, time)) matches.push(message);
      }
      return matches;
    },

    show: (queueId) => entries.get(queueId)?.message,

    retryNow(queueId) {
      const targets = queueId === undefined ? [...entries.keys()] : entries.has(queueId) ? [queueId] : [];
      const time = now();
      for (const id of targets) {
        const entry = requireEntry(id);
        const recipients = entry.message.recipients.map((state) =>
          isFinal(state.status) ? state : { ...state, nextAttemptAt: Math.min(state.nextAttemptAt, time) },
        );
        entry.message = { ...entry.message, recipients };
        entry.heldUntil = 0;
        schedule(id, entry);
      }
      return targets.length;
    },

    async remove(queueId) {
      const entry = entries.get(queueId);
      if (entry === undefined) return false;
      await forget(queueId, entry);
      return true;
    },

    close() {
      space.stop();
      listeners.clear();
      log.close();
    },
  };
}

function matchesFilter(message: QueuedMessage, filter: QueueListFilter, time: number): boolean {
  const { envelope, recipients } = message;
  const open = recipients.filter((state) => !isFinal(state.status));
  if (filter.sender !== undefined && !envelope.mailFrom.toLowerCase().includes(filter.sender.toLowerCase())) {
    return false;
  }
  if (filter.recipient !== undefined) {
    const needle = filter.recipient.toLowerCase();
    if (!open.some((state) => state.recipient.address.toLowerCase().includes(needle))) return false;
  }
  if (filter.status !== undefined && !open.some((state) => state.status === filter.status)) return false;
  return filter.olderThanMs === undefined || time - envelope.receivedAt >= filter.olderThanMs;
}

/** The filesystem (or the quota) is full: the same condition as hasSpace() false, found by a write. */
function isOutOfSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The header section (up to and including the CRLF before the blank line) of a body's first bytes. */
function headerSection(bytes: Buffer): Buffer {
  const end = bytes.indexOf('\r\n\r\n');
  return end < 0 ? bytes : bytes.subarray(0, end + 2);
}

/** Unlinking is a metadata update in memory: synchronous, without a thread-pool round trip. */
function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
