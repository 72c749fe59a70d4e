// The durable queue. begin() starts a message file (message-draft.ts): the body is written to a
// temporary file, fdatasync'd, renamed into its shard, and commit() resolves after the shard
// directory is fsync'd (group commit, directory-sync.ts). Delivery leases due messages from an
// in-memory index (rebuilt from the files at start) and records per-recipient outcomes in an
// append-only state log per message.
import { createReadStream, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
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
import { ensureShards, recoverSpool, type RecoveryReport } from './recover.ts';
import { encodeHeader, encodeUpdate } from './spool-format.ts';

export interface SpoolOptions {
  readonly dir: string;
  readonly minFreeBytes: number;
  readonly now: () => number;
  readonly freeBytes?: FreeBytesProbe;
  readonly spaceCheckIntervalMs?: number;
  /** Memory for the bodies of messages waiting for their first delivery attempt (default 32 MiB). */
  readonly bodyCacheBytes?: number;
}

/** Buffered body bytes written out before the end of a message. */
const draftFlushBytes = 64 * 1024;
/** Bodies up to this size are kept in memory for their first delivery attempt. */
const cachedBodyMaxBytes = 256 * 1024;

export interface QueueListFilter {
  readonly sender?: string;
  readonly recipient?: string;
  readonly status?: 'pending' | 'deferred';
  readonly olderThanMs?: number;
}

export interface Spool extends MessageSink {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  readonly directorySync: DirectorySync['stats'];
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
  readonly bodyOffset: number;
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
  const recovery = await recoverSpool(dir);
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

  for (const { message, bodyOffset, hasLog } of recovery.messages) {
    const entry: Entry = { message, bodyOffset, hasLog, leased: false, dueAt: undefined, heldUntil: 0 };
    entries.set(message.queueId, entry);
    schedule(message.queueId, entry);
  }

  async function removeFiles(queueId: string, entry: Entry): Promise<void> {
    entries.delete(queueId);
    bodies.drop(queueId);
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
    const header = encodeHeader(envelope);
    const shard = join(dir, shardOf(queueId));
    const draft = new MessageDraft({
      paths: { temporary: pathOf(queueId, '.tmp'), committed: pathOf(queueId, '.msg') },
      header,
      flushBytes: draftFlushBytes,
      keepBodyBytes: cachedBodyMaxBytes,
      syncDirectory: () => directorySync.sync(shard),
    });
    const failed = (error: unknown): never => {
      draft.discard();
      throw spoolError(error, queueId);
    };
    return {
      write(chunk) {
        try {
          draft.write(chunk);
        } catch (error) {
          failed(error);
        }
      },
      async commit() {
        if (entries.has(queueId)) throw new Error(`queue id ${queueId} is in use`);
        const committed = await draft.commit().catch(failed);
        const message: QueuedMessage = {
          queueId,
          envelope,
          size: committed.size,
          recipients: initialRecipients(envelope),
        };
        const entry: Entry = {
          message,
          bodyOffset: header.length,
          hasLog: false,
          leased: false,
          dueAt: undefined,
          heldUntil: 0,
        };
        entries.set(queueId, entry);
        if (committed.body !== undefined) bodies.keep(queueId, committed.body);
        schedule(queueId, entry);
        const accepted: AcceptedMessage = { queueId, size: committed.size };
        return accepted;
      },
      discard() {
        draft.discard();
      },
    };
  }

  return {
    dir,
    recovery,
    directorySync: directorySync.stats,
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
      // A retry comes later, if at all: the first attempt was what the kept body was for.
      bodies.drop(queueId);
      if (recipients.every((state) => isFinal(state.status))) {
        await removeFiles(queueId, entry);
        return;
      }
      if (updates.length > 0) {
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
      schedule(queueId, entry);
    },

    release(queueId, notBefore = 0) {
      const entry = entries.get(queueId);
      if (entry === undefined) return;
      entry.leased = false;
      entry.heldUntil = notBefore;
      schedule(queueId, entry);
    },

    openBody(queueId) {
      const entry = requireEntry(queueId);
      const kept = bodies.get(queueId);
      if (kept !== undefined) return Readable.from([kept], { objectMode: false });
      return createReadStream(pathOf(queueId, '.msg'), { start: entry.bodyOffset, highWaterMark: 65536 });
    },

    async readHeaderSection(queueId, maxBytes) {
      const entry = requireEntry(queueId);
      const kept = bodies.get(queueId);
      if (kept !== undefined) return headerSection(kept.subarray(0, maxBytes));
      const handle = await open(pathOf(queueId, '.msg'), 'r');
      try {
        const buffer = Buffer.alloc(maxBytes);
        const { bytesRead } = await handle.read(buffer, 0, maxBytes, entry.bodyOffset);
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
      await removeFiles(queueId, entry);
      return true;
    },

    close() {
      space.stop();
      listeners.clear();
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
