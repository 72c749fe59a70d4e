// What the spool knows about a queued message: the envelope as accepted and, per recipient, where
// delivery stands. Shared by the spool, delivery and the admin endpoint.
import type { InboundEnvelope, InboundRecipient } from './message-sink.ts';

export type RecipientStatus = 'pending' | 'deferred' | 'delivered' | 'bounced';

export interface RecipientState {
  readonly recipient: InboundRecipient;
  readonly status: RecipientStatus;
  readonly attempts: number;
  /** Epoch ms of the next attempt; set while pending or deferred. */
  readonly nextAttemptAt: number;
  /** The last reply (or error) from a next hop, as one line. */
  readonly lastReply?: string;
  /** A delay warning (RFC 3464 `Action: delayed`) went to the sender for this recipient. */
  readonly delayWarned?: boolean;
}

export interface QueuedMessage {
  readonly queueId: string;
  readonly envelope: InboundEnvelope;
  /** Body bytes (headers included), without the spool's own header line. */
  readonly size: number;
  readonly recipients: readonly RecipientState[];
}

/** One durable change of delivery state, for the recipients at `indexes` in the envelope. */
export interface RecipientUpdate {
  readonly indexes: readonly number[];
  readonly status: RecipientStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly reply?: string;
  /** Set once a delay warning for these recipients is queued; it stays set. */
  readonly delayWarned?: boolean;
}

export function isFinal(status: RecipientStatus): boolean {
  return status === 'delivered' || status === 'bounced';
}

export function initialRecipients(envelope: InboundEnvelope): RecipientState[] {
  return envelope.recipients.map((recipient) => ({
    recipient,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: envelope.receivedAt,
  }));
}

/** Applies updates in order (the replay of a state log); unknown indexes are ignored. */
export function applyUpdates(
  recipients: readonly RecipientState[],
  updates: readonly RecipientUpdate[],
): RecipientState[] {
  const next = [...recipients];
  for (const update of updates) {
    for (const index of update.indexes) {
      const current = next[index];
      if (current === undefined) continue;
      next[index] = {
        recipient: current.recipient,
        status: update.status,
        attempts: update.attempts,
        nextAttemptAt: update.nextAttemptAt,
        ...(update.reply === undefined ? {} : { lastReply: update.reply }),
        ...(update.delayWarned === true || current.delayWarned === true ? { delayWarned: true } : {}),
      };
    }
  }
  return next;
}

/** When the message is next due: the earliest pending or deferred recipient; undefined when done. */
export function nextDueAt(recipients: readonly RecipientState[]): number | undefined {
  let due: number | undefined;
  for (const state of recipients) {
    if (isFinal(state.status)) continue;
    if (due === undefined || state.nextAttemptAt < due) due = state.nextAttemptAt;
  }
  return due;
}
