// From an attempt's result to the durable recipient update: delivered, deferred with the next
// attempt time, or bounced (5xx, or a deferral that would outlive the queue lifetime). Pure.
import type { RecipientState, RecipientUpdate } from '../queue/queued-message.ts';
import { replyLine, type AttemptResult, type Verdict } from './attempt-result.ts';
import { retryDelayMs, type BackoffPolicy } from './backoff.ts';
import { classify } from './classify.ts';

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
