// The durable queue. accept() streams DATA to a temporary file (fsync'd on close), renames it into
// its shard and resolves after the shard directory is fsync'd (group commit, directory-sync.ts).
// Delivery leases due messages from an in-memory index (rebuilt from the files at start) and records
// per-recipient outcomes in an append-only state log per message.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDirectorySync, type DirectorySync } from './directory-sync.ts';
import { statfsFreeBytes, watchFreeSpace, type FreeBytesProbe } from './disk-space.ts';
import { DueHeap } from './due-heap.ts';
import type { AcceptedMessage, InboundEnvelope, MessageSink } from './message-sink.ts';
import { createQueueIdSource, isQueueId, shardOf } from './queue-id.ts';
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
}

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
  const ids = createQueueIdSource(now, () => randomBytes(5).toString('hex'));
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
    await unlink(pathOf(queueId, '.msg')).catch(ignoreMissing);
    if (entry.hasLog) await unlink(pathOf(queueId, '.log')).catch(ignoreMissing);
    await directorySync.sync(join(dir, shardOf(queueId)));
  }

  return {
    dir,
    recovery,
    directorySync: directorySync.stats,
    newQueueId: () => ids.next(),
    hasSpace: () => space.hasSpace(),
    minFreeBytes: options.minFreeBytes,
    freeBytes: () => space.freeBytes(),

    async accept(queueId: string, envelope: InboundEnvelope, body: Readable, signal?: AbortSignal) {
      if (!isQueueId(queueId) || entries.has(queueId))
        throw new Error(`queue id ${queueId} is invalid or in use`);
      if (!space.hasSpace())
        throw new SpoolFullError(`spool ${dir} has less than ${options.minFreeBytes} bytes free`);
      const temporary = pathOf(queueId, '.tmp');
      const header = encodeHeader(envelope);
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          callback(null, chunk);
        },
      });
      const out = createWriteStream(temporary, { flags: 'wx', flush: true, highWaterMark: 65536 });
      out.write(header);
      try {
        await pipeline(body, counter, out, signal === undefined ? {} : { signal });
        await rename(temporary, pathOf(queueId, '.msg'));
        await directorySync.sync(join(dir, shardOf(queueId)));
      } catch (error) {
        out.destroy();
        await unlink(temporary).catch(ignoreMissing);
        await unlink(pathOf(queueId, '.msg')).catch(ignoreMissing);
        void space.refresh();
        throw isOutOfSpace(error)
          ? new SpoolFullError(`spool ${dir} ran out of space while writing ${queueId}`, { cause: error })
          : error;
      }
      const message: QueuedMessage = { queueId, envelope, size, recipients: initialRecipients(envelope) };
      const entry: Entry = {
        message,
        bodyOffset: header.length,
        hasLog: false,
        leased: false,
        dueAt: undefined,
        heldUntil: 0,
      };
      entries.set(queueId, entry);
      schedule(queueId, entry);
      const accepted: AcceptedMessage = { queueId, size };
      return accepted;
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
      return createReadStream(pathOf(queueId, '.msg'), { start: entry.bodyOffset, highWaterMark: 65536 });
    },

    async readHeaderSection(queueId, maxBytes) {
      const entry = requireEntry(queueId);
      const handle = await open(pathOf(queueId, '.msg'), 'r');
      try {
        const buffer = Buffer.alloc(maxBytes);
        const { bytesRead } = await handle.read(buffer, 0, maxBytes, entry.bodyOffset);
        const bytes = buffer.subarray(0, bytesRead);
        const end = bytes.indexOf('\r\n\r\n');
        return end < 0 ? bytes : bytes.subarray(0, end + 2);
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

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
