// The delivery service: leases due messages from the spool, sends each destination group, records
// per-recipient outcomes durably, queues bounces, and on drain hands what is left to peer relays.
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/delivery-schema.ts';
import type { QueueConfig } from '../config/queue-schema.ts';
import type { DkimKeyring } from '../dkim/keys.ts';
import { createSigningPool, type SigningPool } from '../dkim/signing-pool.ts';
import type { QueuedMessage, RecipientState, RecipientUpdate } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { replyLine, withoutInterrupted, type GroupAttempt } from './attempt-result.ts';
import { queueBounce } from './bounce.ts';
import { domainOf, groupByDestination } from './destinations.ts';
import { wantsFailureReport, type ReportedRecipient } from './dsn.ts';
import { handOffQueue, type HandoffReport } from './handoff.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { createMxRouter } from './mx-route.ts';
import { decideOutcome, delayWarningDue, type OutcomeContext } from './outcome.ts';
import { sendGroup, type SendContext } from './send-group.ts';
import { createSessionPool } from './session-pool.ts';
import type { Clock } from '../clock.ts';

export interface DeliveryServiceConfig {
  /** The relay's hostname: EHLO name and Reporting-MTA of bounces. */
  readonly hostname: string;
  readonly queue: QueueConfig;
  readonly delivery: DeliveryConfig;
}

export interface DeliverySecrets {
  readonly dkimKeys: DkimKeyring;
  readonly smarthostAuth?: { readonly user: string; readonly pass: string };
}

export interface DeliveryServiceOptions {
  readonly config: DeliveryServiceConfig;
  readonly secrets: DeliverySecrets;
  readonly spool: Spool;
  readonly logger: Logger;
  readonly metrics: DeliveryMetrics;
  readonly clock: Clock;
  readonly random: () => number;
  /** Where DKIM signing runs; worker threads (createSigningPool) when absent. Closed by stop(). */
  readonly signingPool?: SigningPool;
}

export interface DeliveryService {
  /** Stops leasing and waits for deliveries in flight. */
  stop(): Promise<void>;
  /** Keeps delivering until `deadline` (epoch ms on the service's clock) or an empty queue, then hands the rest to peers. */
  drain(deadline: number): Promise<HandoffReport>;
  /** Deliveries in flight. */
  inFlight(): number;
  /** Swaps DKIM keys and smarthost credentials (a reload); deliveries started later use them. */
  updateSecrets(secrets: DeliverySecrets): void;
}

const idleSessionMs = 5000;
const maxSleepMs = 60_000;

export function startDelivery(options: DeliveryServiceOptions): DeliveryService {
  const { config, spool, logger, metrics, clock, random } = options;
  const { delivery } = config;
  const now = clock;
  const pool = createSessionPool(delivery.concurrencyPerDestination, idleSessionMs);
  const signingPool = options.signingPool ?? createSigningPool(delivery.signingThreads);
  const stopping = new AbortController();
  const smarthost = delivery.mode === 'smarthost' ? delivery.smarthost : undefined;
  const destination = smarthost && `${smarthost.host}:${String(smarthost.port)}`;
  if (smarthost?.tls === 'none') {
    logger.warn(
      { event: 'tls-off', destination },
      'TLS to the smarthost is off (tls: none): every message goes to it in plaintext',
    );
  }
  if (smarthost !== undefined && smarthost.tls !== 'none' && smarthost.verifyCertificate === false) {
    logger.warn(
      { event: 'tls-unverified', destination },
      "the smarthost's certificate is not verified (verifyCertificate: false): encrypted, but open to an active attacker",
    );
  }
  let sendContext: SendContext = {
    delivery,
    heloName: config.hostname,
    spool,
    pool,
    mxRouter: createMxRouter({
      dnsServers: delivery.dnsServers,
      port: delivery.mxPort,
      allowPrivateDestinations: delivery.allowPrivateDestinations,
      mtaSts: delivery.mtaSts,
      connectTimeoutMs: delivery.connectTimeoutSeconds * 1000,
      heloName: config.hostname,
    }),
    dkimKeys: options.secrets.dkimKeys,
    signingPool,
    smarthostAuth: options.secrets.smarthostAuth,
    metrics,
    authWithheldLogged: { value: false },
    authRefusedLogged: { value: false },
    logger,
    now,
    signal: stopping.signal,
  };
  const delayWarningMs = config.queue.sendReports ? config.queue.delayWarningSeconds * 1000 : 0;
  const reportSender = { reportingMta: config.hostname, from: config.queue.reportsFrom };
  const outcomeBase = {
    maxLifetimeMs: config.queue.maxLifetimeSeconds * 1000,
    backoff: { initialMs: delivery.retryInitialSeconds * 1000, maxMs: delivery.retryMaxSeconds * 1000 },
    random,
  };
  const inFlight = new Set<Promise<void>>();
  let leasing = true;
  let wakeTimer: NodeJS.Timeout | undefined;

  function pump(): void {
    if (!leasing) return;
    const room = delivery.maxConcurrentDeliveries - inFlight.size;
    if (room > 0) {
      for (const message of spool.leaseDue(room)) {
        const work = processMessage(message).finally(() => {
          inFlight.delete(work);
          pump();
        });
        inFlight.add(work);
      }
    }
    scheduleWake();
  }

  function scheduleWake(): void {
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    const due = spool.nextDueAt();
    if (due === undefined || !leasing) return;
    wakeTimer = setTimeout(pump, Math.min(maxSleepMs, Math.max(0, due - now())));
    wakeTimer.unref();
  }

  async function processMessage(message: QueuedMessage): Promise<void> {
    try {
      const groups = groupByDestination(message, now(), delivery.mode === 'smarthost');
      const attempted = await Promise.all(
        groups.map(async (group) => {
          const started = performance.now();
          const results = await sendGroup(sendContext, message, group);
          metrics.attemptSeconds.observe({ mode: delivery.mode }, (performance.now() - started) / 1000);
          return { group, results };
        }),
      );
      const decided = withoutInterrupted(attempted);
      const interrupted = attempted.some(({ results }) => results.some(({ kind }) => kind === 'interrupted'));
      if (interrupted) {
        logger.info(
          { event: 'delivery-interrupted', queueId: message.queueId },
          'delivery interrupted: the relay is stopping; the message stays due',
        );
      }
      if (decided.length === 0) spool.release(message.queueId);
      else await recordResults(message, decided);
    } catch (error) {
      logger.error(
        { event: 'delivery-error', queueId: message.queueId, err: error },
        'delivery attempt failed unexpectedly',
      );
      spool.release(message.queueId, now() + outcomeBase.backoff.initialMs);
    }
  }

  async function recordResults(message: QueuedMessage, attempted: readonly GroupAttempt[]): Promise<void> {
    const context: OutcomeContext = { ...outcomeBase, now: now(), receivedAt: message.envelope.receivedAt };
    const decided: { destination: string; state: RecipientState; update: RecipientUpdate }[] = [];
    const failed: (ReportedRecipient & { readonly index: number })[] = [];
    const delayed: (ReportedRecipient & { readonly index: number })[] = [];
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
          config.queue.sendReports &&
          wantsFailureReport(message.envelope, state.recipient)
        ) {
          failed.push(reported);
        }
        if (delayWarningDue(state, outcome.update, message.envelope, context.now, delayWarningMs)) {
          delayed.push(reported);
        }
      });
    }
    const updates = decided.map(({ update }) => update);
    const afterBounces = failed.length > 0 ? await bounceOrDefer(message, failed, updates, context) : updates;
    const recorded =
      delayed.length > 0 ? await warnOfDelay(message, delayed, afterBounces, context) : afterBounces;
    // Counted and logged as recorded: a bounce that could not be queued leaves its recipient deferred.
    recorded.forEach((update, position) => {
      const { destination, state } = decided[position] ?? {};
      if (state === undefined) return;
      const verdict = update.status === 'pending' ? 'deferred' : update.status;
      metrics.recipients.inc({ result: verdict, mode: delivery.mode });
      if (verdict === 'delivered') {
        metrics.delaySeconds.observe(Math.max(0, (context.now - message.envelope.receivedAt) / 1000));
      }
      logger[verdict === 'delivered' ? 'info' : 'warn'](
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
    });
    await spool.complete(message.queueId, recorded);
  }

  /**
   * Queues the bounce for the failed recipients. When it cannot be queued (the spool is full), those
   * recipients are deferred instead of bounced, to bounce at a later attempt; the other outcomes of
   * the attempt are recorded all the same, so delivered recipients are never sent the message again.
   */
  async function bounceOrDefer(
    message: QueuedMessage,
    failed: readonly (ReportedRecipient & { readonly index: number })[],
    updates: readonly RecipientUpdate[],
    context: OutcomeContext,
  ): Promise<RecipientUpdate[]> {
    try {
      const bounceId = await queueBounce(
        spool,
        reportSender,
        message,
        { action: 'failed' },
        failed,
        context.now,
      );
      metrics.bouncesGenerated.inc();
      logger.info(
        { event: 'bounce-queued', queueId: message.queueId, bounceQueueId: bounceId },
        'bounce queued to the sender',
      );
      return [...updates];
    } catch (error) {
      const waiting = new Set(failed.map(({ index }) => index));
      const nextAttemptAt = context.now + outcomeBase.backoff.initialMs;
      logger.error(
        { event: 'bounce-deferred', queueId: message.queueId, err: error, nextAttemptAt },
        'the bounce could not be queued; its recipients stay queued',
      );
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
  }

  /**
   * Queues one delay warning for the recipients whose deferral crossed queue.delayWarningSeconds and
   * marks them warned in their updates, so no second warning follows. When it cannot be queued (the
   * spool is full) nothing is marked: a later attempt tries again.
   */
  async function warnOfDelay(
    message: QueuedMessage,
    delayed: readonly (ReportedRecipient & { readonly index: number })[],
    updates: readonly RecipientUpdate[],
    context: OutcomeContext,
  ): Promise<RecipientUpdate[]> {
    const willRetryUntil = message.envelope.receivedAt + outcomeBase.maxLifetimeMs;
    try {
      const reportId = await queueBounce(
        spool,
        reportSender,
        message,
        { action: 'delayed', willRetryUntil },
        delayed,
        context.now,
      );
      metrics.delayWarningsGenerated.inc();
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
    const warned = new Set(delayed.map(({ index }) => index));
    return updates.map((update) =>
      update.status === 'deferred' && update.indexes.some((index) => warned.has(index))
        ? { ...update, delayWarned: true }
        : update,
    );
  }

  const unsubscribe = spool.onDue(pump);
  pump();

  /** With `interrupt`, sessions in progress end at once and their messages stay queued (deferred). */
  async function stop(interrupt = false): Promise<void> {
    leasing = false;
    unsubscribe();
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    if (interrupt) stopping.abort();
    await Promise.all(inFlight);
    pool.closeAll();
    await signingPool.close();
  }

  return {
    inFlight: () => inFlight.size,
    updateSecrets(secrets) {
      sendContext = { ...sendContext, dkimKeys: secrets.dkimKeys, smarthostAuth: secrets.smarthostAuth };
    },
    stop: () => stop(),
    async drain(deadline) {
      while (now() < deadline && spool.size() > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(1, deadline - now()))));
      }
      // The deadline has passed (or the queue is empty): a delivery still in progress (a next hop that stalls, a large
      // message on a slow link) is cut off, so that hand-off starts now and the pod's grace period
      // is not spent waiting for it. Its message stays queued and is handed off with the rest.
      await stop(true);
      const report = await handOffQueue({
        spool,
        peers: delivery.drainPeers,
        heloName: config.hostname,
        connectTimeoutMs: delivery.connectTimeoutSeconds * 1000,
        metrics,
        logger,
      });
      logger.info({ event: 'drained', ...report }, 'drain finished');
      return report;
    },
  };
}
