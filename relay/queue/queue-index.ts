// The spool's in-memory index: every queued message, which of them are leased to delivery, and a
// min-heap of due times so leasing costs O(log n) whatever the queue length. No disk and no clock:
// the time comes in as an argument. Where each body lies on disk rides along (`place`), owned and
// updated by the stores (message-stores.ts); the index never reads it.
import { DueHeap } from './due-heap.ts';
import { matchesFilter, type QueueListFilter } from './queue-filter.ts';
import {
  applyUpdates,
  isFinal,
  nextDueAt,
  type QueuedMessage,
  type RecipientUpdate,
} from './queued-message.ts';
import type { BodyPlace } from './message-stores.ts';

export interface IndexEntry {
  message: QueuedMessage;
  readonly place: BodyPlace;
  leased: boolean;
  /** When the message is next due (its earliest open recipient, not before heldUntil); undefined when done. */
  dueAt: number | undefined;
  /** Set by release(): the message is not due again before this (in memory only). */
  heldUntil: number;
}

export class QueueIndex {
  readonly #entries = new Map<string, IndexEntry>();
  /** Holds stale items too: an item counts only while its message is unleased and still due at that time. */
  readonly #heap = new DueHeap();
  readonly #listeners = new Set<() => void>();

  get size(): number {
    return this.#entries.size;
  }

  has(queueId: string): boolean {
    return this.#entries.has(queueId);
  }

  get(queueId: string): IndexEntry | undefined {
    return this.#entries.get(queueId);
  }

  require(queueId: string): IndexEntry {
    const entry = this.#entries.get(queueId);
    if (entry === undefined) throw new Error(`queue id ${queueId} is not in the queue`);
    return entry;
  }

  /** Adds a message, unleased, and schedules it. */
  add(message: QueuedMessage, place: BodyPlace): void {
    const entry: IndexEntry = { message, place, leased: false, dueAt: undefined, heldUntil: 0 };
    this.#entries.set(message.queueId, entry);
    this.schedule(entry);
  }

  delete(queueId: string): void {
    this.#entries.delete(queueId);
  }

  /** Recomputes when the message is due; an unleased due message goes on the heap and wakes the listeners. */
  schedule(entry: IndexEntry): void {
    const due = nextDueAt(entry.message.recipients);
    entry.dueAt = due === undefined ? undefined : Math.max(due, entry.heldUntil);
    if (entry.dueAt === undefined || entry.leased) return;
    this.#heap.push({ dueAt: entry.dueAt, queueId: entry.message.queueId });
    for (const listener of this.#listeners) listener();
  }

  /** Due messages (at `time`) not already leased, earliest first, at most `limit`; each is leased. */
  leaseDue(limit: number, time: number): QueuedMessage[] {
    const leased: QueuedMessage[] = [];
    while (leased.length < limit) {
      const top = this.#heap.peek();
      if (top === undefined || top.dueAt > time) break;
      this.#heap.pop();
      const entry = this.#entries.get(top.queueId);
      if (entry === undefined || entry.leased || entry.dueAt !== top.dueAt) continue;
      entry.leased = true;
      leased.push(entry.message);
    }
    return leased;
  }

  /** When the next unleased message falls due; stale heap items met on the way are dropped. */
  nextDueAt(): number | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined) return undefined;
      const entry = this.#entries.get(top.queueId);
      if (entry !== undefined && !entry.leased && entry.dueAt === top.dueAt) return top.dueAt;
      this.#heap.pop();
    }
  }

  onDue(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clearListeners(): void {
    this.#listeners.clear();
  }

  /**
   * Applies the outcomes of an attempt in memory and ends the lease; undefined when the message is
   * not queued. The caller makes the outcomes durable, then schedules the entry (or forgets it).
   */
  record(queueId: string, updates: readonly RecipientUpdate[]): IndexEntry | undefined {
    const entry = this.#entries.get(queueId);
    if (entry === undefined) return undefined;
    entry.message = { ...entry.message, recipients: applyUpdates(entry.message.recipients, updates) };
    entry.leased = false;
    return entry;
  }

  /** Ends the lease without recording anything; the message is not due again before notBefore. */
  release(queueId: string, notBefore: number): void {
    const entry = this.#entries.get(queueId);
    if (entry === undefined) return;
    entry.leased = false;
    entry.heldUntil = notBefore;
    this.schedule(entry);
  }

  /** Makes the open recipients of one message (or all, without an id) due at `time`; returns how many messages. */
  retryNow(queueId: string | undefined, time: number): number {
    const targets =
      queueId === undefined ? [...this.#entries.keys()] : this.#entries.has(queueId) ? [queueId] : [];
    for (const id of targets) {
      const entry = this.require(id);
      const recipients = entry.message.recipients.map((state) =>
        isFinal(state.status) ? state : { ...state, nextAttemptAt: Math.min(state.nextAttemptAt, time) },
      );
      entry.message = { ...entry.message, recipients };
      entry.heldUntil = 0;
      this.schedule(entry);
    }
    return targets.length;
  }

  list(filter: QueueListFilter, time: number): QueuedMessage[] {
    const matches: QueuedMessage[] = [];
    for (const { message } of this.#entries.values()) {
      if (matchesFilter(message, filter, time)) matches.push(message);
    }
    return matches;
  }

  oldestReceivedAt(): number | undefined {
    let oldest: number | undefined;
    for (const { message } of this.#entries.values()) {
      if (oldest === undefined || message.envelope.receivedAt < oldest) oldest = message.envelope.receivedAt;
    }
    return oldest;
  }
}
