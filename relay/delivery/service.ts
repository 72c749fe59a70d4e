// The delivery service: leases due messages from the spool (lease-pump.ts), sends each destination
// group (send-group.ts), records per-recipient outcomes durably and queues reports
// (record-attempt.ts), and on drain hands what is left to peer relays (handoff.ts). This file only
// composes those parts and owns their life: start, stop, drain, a secrets reload.
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/delivery-schema.ts';
import type { QueueConfig } from '../config/queue-schema.ts';
import { createSigningPool, type SigningPool } from '../dkim/signing-pool.ts';
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { withoutInterrupted } from './attempt-result.ts';
import { groupByDestination } from './destinations.ts';
import { handOffQueue, type HandoffReport } from './handoff.ts';
import { LeasePump } from './lease-pump.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { recordAttempt, type RecordContext } from './record-attempt.ts';
import { createSendContext, type DeliverySecrets } from './send-context.ts';
import { sendGroup, type SendContext } from './send-group.ts';
import { createSessionPool } from './session-pool.ts';
import type { Clock } from '../clock.ts';

export type { DeliverySecrets } from './send-context.ts';

export interface DeliveryServiceConfig {
  /** The relay's hostname: EHLO name and Reporting-MTA of bounces. */
  readonly hostname: string;
  readonly queue: QueueConfig;
  readonly delivery: DeliveryConfig;
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

export function startDelivery(options: DeliveryServiceOptions): DeliveryService {
  const { config, spool, logger, metrics, clock: now } = options;
  const { delivery } = config;
  const pool = createSessionPool(delivery.concurrencyPerDestination, idleSessionMs);
  const signingPool = options.signingPool ?? createSigningPool(delivery.signingThreads);
  const stopping = new AbortController();
  let sendContext: SendContext = createSendContext({
    delivery,
    hostname: config.hostname,
    spool,
    pool,
    signingPool,
    secrets: options.secrets,
    metrics,
    logger,
    now,
    signal: stopping.signal,
  });
  const recordContext: RecordContext = {
    spool,
    mode: delivery.mode,
    reportSender: { reportingMta: config.hostname, from: config.queue.reportsFrom },
    reportPolicy: {
      sendReports: config.queue.sendReports,
      delayWarningMs: config.queue.sendReports ? config.queue.delayWarningSeconds * 1000 : 0,
    },
    outcome: {
      maxLifetimeMs: config.queue.maxLifetimeSeconds * 1000,
      backoff: { initialMs: delivery.retryInitialSeconds * 1000, maxMs: delivery.retryMaxSeconds * 1000 },
      random: options.random,
    },
    metrics,
    logger,
    now,
  };

  /** One attempt on a leased message; whatever happens, it ends the lease. */
  async function deliver(message: QueuedMessage): Promise<void> {
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
      else await recordAttempt(recordContext, message, decided);
    } catch (error) {
      logger.error(
        { event: 'delivery-error', queueId: message.queueId, err: error },
        'delivery attempt failed unexpectedly',
      );
      spool.release(message.queueId, now() + recordContext.outcome.backoff.initialMs);
    }
  }

  const pump = new LeasePump({ spool, maxInFlight: delivery.maxConcurrentDeliveries, deliver, now });
  pump.start();

  /** With `interrupt`, sessions in progress end at once and their messages stay queued (deferred). */
  async function stop(interrupt = false): Promise<void> {
    pump.stop();
    if (interrupt) stopping.abort();
    await pump.settled();
    pool.closeAll();
    await signingPool.close();
  }

  return {
    inFlight: () => pump.inFlight,
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
