// Records what one attempt on a message decided: queues the reports owed to the sender (a bounce, a
// delay warning) into the spool first, so a report is durable before its recipients are recorded as
// bounced or warned, then counts and logs each recipient and completes the message in the spool.
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/delivery-schema.ts';
import type { QueuedMessage, RecipientUpdate } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import {
  decideAttempt,
  deferUnbounced,
  markDelayWarned,
  type DecidedRecipient,
  type IndexedReport,
  type ReportPolicy,
} from './attempt-decisions.ts';
import type { GroupAttempt } from './attempt-result.ts';
import { queueBounce, type ReportSender } from './bounce.ts';
import { domainOf } from './destinations.ts';
import type { DeliveryMetrics } from './metrics.ts';
import type { OutcomeContext } from './outcome.ts';
import type { Clock } from '../clock.ts';

export interface RecordContext {
  readonly spool: Spool;
  readonly mode: DeliveryConfig['mode'];
  readonly reportSender: ReportSender;
  readonly reportPolicy: ReportPolicy;
  /** The outcome policy; the time and the message's age are filled in per attempt. */
  readonly outcome: Omit<OutcomeContext, 'now' | 'receivedAt'>;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  readonly now: Clock;
}

export async function recordAttempt(
  context: RecordContext,
  message: QueuedMessage,
  attempted: readonly GroupAttempt[],
): Promise<void> {
  const outcome: OutcomeContext = {
    ...context.outcome,
    now: context.now(),
    receivedAt: message.envelope.receivedAt,
  };
  const { decided, failed, delayed } = decideAttempt(message, attempted, outcome, context.reportPolicy);
  const updates = decided.map(({ update }) => update);
  const afterBounces =
    failed.length > 0 ? await bounceOrDefer(context, message, failed, updates, outcome.now) : updates;
  const recorded =
    delayed.length > 0
      ? await warnOfDelay(context, message, delayed, afterBounces, outcome.now)
      : afterBounces;
  // Counted and logged as recorded: a bounce that could not be queued leaves its recipient deferred.
  recorded.forEach((update, position) => {
    const recipient = decided[position];
    if (recipient !== undefined) countAndLog(context, message, recipient, update, outcome.now);
  });
  await context.spool.complete(message.queueId, recorded);
}

/**
 * Queues the bounce for the failed recipients. When it cannot be queued (the spool is full), those
 * recipients are deferred instead of bounced, to bounce at a later attempt; the other outcomes of
 * the attempt are recorded all the same, so delivered recipients are never sent the message again.
 */
async function bounceOrDefer(
  context: RecordContext,
  message: QueuedMessage,
  failed: readonly IndexedReport[],
  updates: readonly RecipientUpdate[],
  now: number,
): Promise<RecipientUpdate[]> {
  const { logger } = context;
  try {
    const bounceId = await queueBounce(
      context.spool,
      context.reportSender,
      message,
      { action: 'failed' },
      failed,
      now,
    );
    context.metrics.bouncesGenerated.inc();
    logger.info(
      { event: 'bounce-queued', queueId: message.queueId, bounceQueueId: bounceId },
      'bounce queued to the sender',
    );
    return [...updates];
  } catch (error) {
    const nextAttemptAt = now + context.outcome.backoff.initialMs;
    logger.error(
      { event: 'bounce-deferred', queueId: message.queueId, err: error, nextAttemptAt },
      'the bounce could not be queued; its recipients stay queued',
    );
    return deferUnbounced(updates, failed, nextAttemptAt);
  }
}

/**
 * Queues one delay warning for the recipients whose deferral crossed queue.delayWarningSeconds and
 * marks them warned in their updates, so no second warning follows. When it cannot be queued (the
 * spool is full) nothing is marked: a later attempt tries again.
 */
async function warnOfDelay(
  context: RecordContext,
  message: QueuedMessage,
  delayed: readonly IndexedReport[],
  updates: readonly RecipientUpdate[],
  now: number,
): Promise<RecipientUpdate[]> {
  const { logger } = context;
  const willRetryUntil = message.envelope.receivedAt + context.outcome.maxLifetimeMs;
  try {
    const reportId = await queueBounce(
      context.spool,
      context.reportSender,
      message,
      { action: 'delayed', willRetryUntil },
      delayed,
      now,
    );
    context.metrics.delayWarningsGenerated.inc();
    logger.info(
      { event: 'delay-warning-queued', queueId: message.queueId, reportQueueId: reportId },
      'delay warning queued to the sender',
    );
  } catch (error) {
    logger.warn(
      { event: 'delay-warning-deferred', queueId: message.queueId, err: error },
      'the delay warning could not be queued; a later attempt tries again',
    );
    return [...updates];
  }
  return markDelayWarned(updates, delayed);
}

function countAndLog(
  context: RecordContext,
  message: QueuedMessage,
  { destination, state }: DecidedRecipient,
  update: RecipientUpdate,
  now: number,
): void {
  const verdict = update.status === 'pending' ? 'deferred' : update.status;
  context.metrics.recipients.inc({ result: verdict, mode: context.mode });
  if (verdict === 'delivered') {
    context.metrics.delaySeconds.observe(Math.max(0, (now - message.envelope.receivedAt) / 1000));
  }
  context.logger[verdict === 'delivered' ? 'info' : 'warn'](
    {
      event: verdict,
      queueId: message.queueId,
      destination,
      recipientDomain: domainOf(state.recipient.address),
      attempts: update.attempts,
      reply: update.reply,
      ...(verdict === 'deferred' ? { nextAttemptAt: new Date(update.nextAttemptAt).toISOString() } : {}),
    },
    `recipient ${verdict}`,
  );
}
