// The durable queue, in two stores. A message up to segmentMessageMaxBytes (nearly all mail) is
// appended as one record to the segment log (segment-log.ts), and many messages share one
// fdatasync (group commit). A larger one streams to a file of its own (message-files.ts), and so
// does a message once its first attempt leaves recipients deferred: the long-lived queue is a file
// per message with an append-only state log, and segments only hold messages on their first
// attempt, so they empty and are deleted quickly. Delivery leases due messages from an in-memory
// index (queue-index.ts) rebuilt from both stores at start (spool-startup.ts).
//
// openSpool only composes the parts: the index decides what is due and leased, the stores
// (message-stores.ts) hold the bytes, and each message being received is a SpoolMessageDraft.
// Outcomes are made durable before the index schedules the message again.
import type { Readable } from 'node:stream';
import { BodyCache } from './body-cache.ts';
import { createDirectorySync, type DirectorySync } from './directory-sync.ts';
import { statfsFreeBytes, watchFreeSpace, type FreeBytesProbe } from './disk-space.ts';
import { MessageFiles } from './message-files.ts';
import type { InboundEnvelope, MessageSink } from './message-sink.ts';
import { MessageStores } from './message-stores.ts';
import type { Quarantine } from './quarantine.ts';
import type { QueueListFilter } from './queue-filter.ts';
import { createQueueIdSource, isQueueId } from './queue-id.ts';
import { QueueIndex, type IndexEntry } from './queue-index.ts';
import { isFinal, type QueuedMessage, type RecipientUpdate } from './queued-message.ts';
import { pooledRandomHex } from './random-pool.ts';
import type { SegmentLog } from './segment-log.ts';
import { SpoolMessageDraft, type DraftQueue } from './spool-draft.ts';
import { SpoolFullError, spoolWriteError } from './spool-full.ts';
import { indexRecovered, openSpoolDirectory, type SpoolRecovery } from './spool-startup.ts';
import type { Clock } from '../clock.ts';

export { segmentsDirectoryName } from './segment-log.ts';
export { SpoolFullError } from './spool-full.ts';
export type { QueueListFilter } from './queue-filter.ts';

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
  /** queue.commitDelayMs: how long a group commit under concurrent load waits for company (default 0). */
  readonly commitDelayMs?: number;
}

export interface Spool extends MessageSink {
  readonly dir: string;
  readonly recovery: SpoolRecovery;
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
  /** The relay's open SMTP sessions: a delayed group commit starts once each has a message waiting. */
  waitForSessions(openSessions: () => number): void;
  close(): void;
}

export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, now } = options;
  const opened = await openSpoolDirectory(
    dir,
    options.quarantineNewerSpool ?? false,
    options.commitDelayMs ?? 0,
  );
  const index = new QueueIndex();
  const directorySync = createDirectorySync();
  const ids = createQueueIdSource(now, pooledRandomHex(5));
  const files = new MessageFiles(dir, directorySync);
  const stores = new MessageStores(
    opened.log,
    files,
    new BodyCache(options.bodyCacheBytes ?? 32 * 1024 * 1024),
  );
  const space = watchFreeSpace(
    dir,
    options.minFreeBytes,
    options.freeBytes ?? statfsFreeBytes,
    options.spaceCheckIntervalMs ?? 2000,
  );
  await space.refresh();
  indexRecovered(index, opened);

  const draftQueue: DraftQueue = {
    stores,
    has: (queueId) => index.has(queueId),
    add(message, place) {
      index.add(message, place);
    },
    writeError: (error, queueId) => spoolWriteError(error, dir, queueId, space),
  };
  function begin(queueId: string, envelope: InboundEnvelope): SpoolMessageDraft {
    if (!isQueueId(queueId) || index.has(queueId))
      throw new Error(`queue id ${queueId} is invalid or in use`);
    if (!space.hasSpace())
      throw new SpoolFullError(`spool ${dir} has less than ${options.minFreeBytes} bytes free`);
    return new SpoolMessageDraft(queueId, envelope, draftQueue);
  }
  async function forget(queueId: string, entry: IndexEntry): Promise<void> {
    index.delete(queueId);
    await stores.forget(queueId, entry.place);
  }

  return {
    dir,
    recovery: opened.recovery,
    quarantine: opened.quarantine,
    directorySync: directorySync.stats,
    segmentLog: opened.log.stats,
    newQueueId: () => ids.next(),
    hasSpace: () => space.hasSpace(),
    minFreeBytes: options.minFreeBytes,
    freeBytes: () => space.freeBytes(),
    begin,
    async accept(queueId, envelope, body) {
      const draft = begin(queueId, envelope);
      try {
        for await (const chunk of body)
          draft.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      } catch (error) {
        draft.discard();
        throw spoolWriteError(error, dir, queueId, space);
      }
      return draft.commit();
    },
    size: () => index.size,
    oldestReceivedAt: () => index.oldestReceivedAt(),
    leaseDue: (limit) => index.leaseDue(limit, now()),
    nextDueAt: () => index.nextDueAt(),
    onDue: (listener) => index.onDue(listener),
    async complete(queueId, updates) {
      const entry = index.record(queueId, updates);
      if (entry === undefined) return;
      if (entry.message.recipients.every((state) => isFinal(state.status))) {
        await forget(queueId, entry);
        return;
      }
      await stores.recordState(entry.message, entry.place, updates, space.hasSpace());
      index.schedule(entry);
    },
    release(queueId, notBefore = 0) {
      index.release(queueId, notBefore);
    },
    keptBody: (queueId) => stores.keptBody(queueId),
    openBody(queueId) {
      const { message, place } = index.require(queueId);
      return stores.openBody(message, place);
    },
    async readHeaderSection(queueId, maxBytes) {
      const { message, place } = index.require(queueId);
      return stores.readHeaderSection(message, place, maxBytes);
    },
    list: (filter = {}) => index.list(filter, now()),
    show: (queueId) => index.get(queueId)?.message,
    retryNow: (queueId) => index.retryNow(queueId, now()),
    async remove(queueId) {
      const entry = index.get(queueId);
      if (entry === undefined) return false;
      await forget(queueId, entry);
      return true;
    },
    waitForSessions(openSessions) {
      opened.log.waitForSessions(openSessions);
    },
    close() {
      space.stop();
      index.clearListeners();
      stores.close();
    },
  };
}
