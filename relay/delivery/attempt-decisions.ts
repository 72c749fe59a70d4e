// What one attempt on a message decides, pure: per recipient the durable update (outcome.ts), and
// which recipients are owed a report to the sender (a bounce, a delay warning). Also the two ways a
// report changes the updates: a bounce that could not be queued defers its recipients instead, and a
// delay warning that was queued marks its recipients warned.
import type { QueuedMessage, RecipientState, RecipientUpdate } from '../queue/queued-message.ts';
import { replyLine, type GroupAttempt } from './attempt-result.ts';
import { wantsFailureReport, type ReportedRecipient } from './dsn.ts';
import { decideOutcome, delayWarningDue, type OutcomeContext } from './outcome.ts';

export interface IndexedReport extends ReportedRecipient {
  /** The recipient's index in the envelope. */
  readonly index: number;
}

export interface DecidedRecipient {
  readonly destination: string;
  readonly state: RecipientState;
  readonly update: RecipientUpdate;
}

export interface AttemptDecisions {
  /** One per recipient attempted, in the order of the groups. */
  readonly decided: readonly DecidedRecipient[];
  /** Bounced recipients whose sender wants a failure report. */
  readonly failed: readonly IndexedReport[];
  /** Deferred recipients due a delay warning. */
  readonly delayed: readonly IndexedReport[];
}

export interface ReportPolicy {
  /** queue.sendReports: failure reports and delay warnings go to senders at all. */
  readonly sendReports: boolean;
  /** How long a recipient waits before its sender is warned; 0: never. */
  readonly delayWarningMs: number;
}

export function decideAttempt(
  message: QueuedMessage,
  attempted: readonly GroupAttempt[],
  context: OutcomeContext,
  policy: ReportPolicy,
): AttemptDecisions {
  const decided: DecidedRecipient[] = [];
  const failed: IndexedReport[] = [];
  const delayed: IndexedReport[] = [];
  for (const { group, results } of attempted) {
    group.indexes.forEach((index, position) => {
      const state = message.recipients[index];
      const result = results[position];
      if (state === undefined || result === undefined) return;
      const outcome = decideOutcome(index, state, result, context);
      decided.push({ destination: group.destination, state, update: outcome.update });
      const reported = {
        index,
        recipient: state.recipient,
        reply: outcome.update.reply ?? replyLine(result),
      };
      if (
        outcome.verdict === 'bounced' &&
        policy.sendReports &&
        wantsFailureReport(message.envelope, state.recipient)
      ) {
        failed.push(reported);
      }
      if (delayWarningDue(state, outcome.update, message.envelope, context.now, policy.delayWarningMs)) {
        delayed.push(reported);
      }
    });
  }
  return { decided, failed, delayed };
}

/**
 * The bounce for `failed` could not be queued (a full spool): those recipients are deferred to
 * `nextAttemptAt` instead, to bounce at a later attempt; every other update stands.
 */
export function deferUnbounced(
  updates: readonly RecipientUpdate[],
  failed: readonly IndexedReport[],
  nextAttemptAt: number,
): RecipientUpdate[] {
  const waiting = new Set(failed.map(({ index }) => index));
  return updates.map((update) =>
    update.indexes.some((index) => waiting.has(index))
      ? {
          ...update,
          status: 'deferred',
          nextAttemptAt,
          reply: `${update.reply ?? ''} (bounce not queued yet)`,
        }
      : update,
  );
}

/** A delay warning for `delayed` was queued: their deferred updates say so, and no second one follows. */
export function markDelayWarned(
  updates: readonly RecipientUpdate[],
  delayed: readonly IndexedReport[],
): RecipientUpdate[] {
  const warned = new Set(delayed.map(({ index }) => index));
  return updates.map((update) =>
    update.status === 'deferred' && update.indexes.some((index) => warned.has(index))
      ? { ...update, delayWarned: true }
      : update,
  );
}
