// From an attempt's result to the durable recipient update: delivered, deferred with the next
// attempt time, or bounced (5xx, or a deferral that would outlive the queue lifetime). Pure.
import type { InboundEnvelope } from '../queue/message-sink.ts';
import type { RecipientState, RecipientUpdate } from '../queue/queued-message.ts';
import { replyLine, type AttemptResult, type Verdict } from './attempt-result.ts';
import { retryDelayMs, type BackoffPolicy } from './backoff.ts';
import { classify } from './classify.ts';
import { wantsDelayReport } from './dsn.ts';

export interface OutcomeContext {
  readonly now: number;
  readonly receivedAt: number;
  readonly maxLifetimeMs: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
}

export interface RecipientOutcome {
  readonly verdict: Verdict;
  readonly update: RecipientUpdate;
  /** True when the bounce comes from the queue lifetime rather than from a 5xx. */
  readonly expired: boolean;
}

export function decideOutcome(
  index: number,
  state: RecipientState,
  result: AttemptResult,
  context: OutcomeContext,
): RecipientOutcome {
  const attempts = state.attempts + 1;
  const reply = replyLine(result);
  const verdict = classify(result);
  if (verdict !== 'deferred') {
    return {
      verdict,
      expired: false,
      update: { indexes: [index], status: verdict, attempts, nextAttemptAt: context.now, reply },
    };
  }
  const nextAttemptAt = context.now + retryDelayMs(attempts, context.backoff, context.random);
  if (nextAttemptAt > context.receivedAt + context.maxLifetimeMs) {
    return {
      verdict: 'bounced',
      expired: true,
      update: {
        indexes: [index],
        status: 'bounced',
        attempts,
        nextAttemptAt: context.now,
        reply: `${reply} (gave up: queue lifetime expired)`,
      },
    };
  }
  return {
    verdict,
    expired: false,
    update: { indexes: [index], status: 'deferred', attempts, nextAttemptAt, reply },
  };
}

/**
 * Whether this outcome is the moment to warn the sender that the recipient is delayed: it stays
 * deferred, it has waited at least delayWarningMs (0: never warn), no warning went out for it yet,
 * and its NOTIFY (and the sender) allow one.
 */
export function delayWarningDue(
  state: RecipientState,
  update: RecipientUpdate,
  envelope: InboundEnvelope,
  now: number,
  delayWarningMs: number,
): boolean {
  return (
    delayWarningMs > 0 &&
    update.status === 'deferred' &&
    state.delayWarned !== true &&
    now - envelope.receivedAt >= delayWarningMs &&
    wantsDelayReport(envelope, state.recipient)
  );
}
