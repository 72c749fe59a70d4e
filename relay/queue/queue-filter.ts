// Which queued messages `queue list` shows: a pure test of one message against the admin's filter.
import { isFinal, type QueuedMessage } from './queued-message.ts';

export interface QueueListFilter {
  readonly sender?: string;
  readonly recipient?: string;
  readonly status?: 'pending' | 'deferred';
  readonly olderThanMs?: number;
}

/** Sender and recipient match as case-insensitive substrings; recipient and status look at open recipients only. */
export function matchesFilter(message: QueuedMessage, filter: QueueListFilter, time: number): boolean {
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
