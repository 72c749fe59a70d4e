// A spool + delivery service on a private temp dir, with a log that tests can read back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { DeliveryConfig } from '../../../relay/config/delivery-schema.ts';
import type { DkimKeyring } from '../../../relay/dkim/keys.ts';
import type { SigningPool } from '../../../relay/dkim/signing-pool.ts';
import { createDeliveryMetrics } from '../../../relay/delivery/metrics.ts';
import { startDelivery, type DeliveryService } from '../../../relay/delivery/service.ts';
import type { InboundEnvelope } from '../../../relay/queue/message-sink.ts';
import { openSpool, type Spool } from '../../../relay/queue/spool.ts';

export const defaultDelivery: DeliveryConfig = {
  mode: 'smarthost',
  dnsServers: [],
  mxPort: 25,
  mtaSts: false,
  allowPlaintextFallback: true,
  allowPrivateDestinations: true,
  concurrencyPerDestination: 4,
  maxConcurrentDeliveries: 16,
  retryInitialSeconds: 1,
  retryMaxSeconds: 2,
  connectTimeoutSeconds: 3,
  drainPeers: [],
};

export interface Harness {
  readonly dir: string;
  readonly spool: Spool;
  readonly service: DeliveryService;
  readonly registry: Registry;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  waitForEmptyQueue(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly delivery: Partial<DeliveryConfig>;
  readonly dkimKeys?: DkimKeyring;
  readonly dir?: string;
  /** queue.maxLifetimeSeconds (3600 when absent). */
  readonly maxLifetimeSeconds?: number;
  /** queue.delayWarningSeconds (0, none, when absent). */
  readonly delayWarningSeconds?: number;
  /** queue.sendReports (true when absent) and queue.reportsFrom. */
  readonly sendReports?: boolean;
  readonly reportsFrom?: string;
  /** Where DKIM signing runs (the service's own worker threads when absent). */
  readonly signingPool?: SigningPool;
  /** Smarthost credentials, as read from delivery.smarthost.credentialsFile. */
  readonly smarthostAuth?: { readonly user: string; readonly pass: string };
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'mailfleet-delivery-')));
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const registry = new Registry();
  const spool = await openSpool({ dir, minFreeBytes: 0, now: () => Date.now() });
  const service = startDelivery({
    config: {
      hostname: 'relay.mailfleet.test',
      queue: {
        dir,
        minFreeBytes: 0,
        maxLifetimeSeconds: options.maxLifetimeSeconds ?? 3600,
        delayWarningSeconds: options.delayWarningSeconds ?? 0,
        sendReports: options.sendReports ?? true,
        commitDelayMs: 0,
        ...(options.reportsFrom === undefined ? {} : { reportsFrom: options.reportsFrom }),
        adminPort: 0,
      },
      delivery: { ...defaultDelivery, ...options.delivery },
    },
    secrets: {
      dkimKeys: options.dkimKeys ?? new Map(),
      ...(options.smarthostAuth === undefined ? {} : { smarthostAuth: options.smarthostAuth }),
    },
    spool,
    logger,
    metrics: createDeliveryMetrics(registry),
    clock: Date.now,
    random: Math.random,
    ...(options.signingPool === undefined ? {} : { signingPool: options.signingPool }),
  });
  return {
    dir,
    spool,
    service,
    registry,
    logs: () => lines,
    async waitForLog(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching log line in ${timeoutMs} ms: ${JSON.stringify(lines.slice(-5))}`);
        await new Promise((wait) => setTimeout(wait, 25));
      }
    },
    async waitForEmptyQueue(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (spool.size() > 0) {
        if (Date.now() > deadline)
          throw new Error(
            `queue still holds ${spool.size()} after ${timeoutMs} ms: ${JSON.stringify(lines.slice(-5))}`,
          );
        await new Promise((wait) => setTimeout(wait, 25));
      }
    },
    async close() {
      await service.stop();
      spool.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function envelopeFor(
  mailFrom: string,
  recipients: readonly string[],
  extra: Partial<InboundEnvelope> = {},
): InboundEnvelope {
  return {
    mailFrom,
    recipients: recipients.map((address) => ({ address })),
    smtpUtf8: false,
    eightBitMime: false,
    client: { address: '127.0.0.1' },
    receivedAt: Date.now(),
    ...extra,
  };
}

export function messageText(from: string, to: string, subject: string): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    'Date: Sun, 22 Nov 2026 08:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@mailfleet.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `Body of ${subject}.`,
    'Second line with  double  spaces.',
    '',
  ].join('\r\n');
}

export async function enqueue(spool: Spool, envelope: InboundEnvelope, text: string): Promise<string> {
  const queueId = spool.newQueueId();
  await spool.accept(queueId, envelope, Readable.from([Buffer.from(text)]));
  return queueId;
}

/** Queues one simple message per (sender, recipient, subject), as enqueue() does; their queue ids. */
export async function enqueueSimple(
  spool: Spool,
  messages: readonly (readonly [from: string, to: string, subject: string])[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const [from, to, subject] of messages)
    ids.push(await enqueue(spool, envelopeFor(from, [to]), messageText(from, to, subject)));
  return ids;
}
