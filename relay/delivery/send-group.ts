// One transaction for the recipients of one message that share a destination: route (smarthost or
// MX), open or reuse a session, sign with DKIM, send. Returns one AttemptResult per recipient.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/delivery-schema.ts';
import type { DkimKeyring } from '../dkim/keys.ts';
import { splitAndHashRelaxed } from '../dkim/relaxed-body.ts';
import { signMessage, type DkimResult } from '../dkim/sign.ts';
import type { SigningPool } from '../dkim/signing-pool.ts';
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { replyLine, type AttemptResult } from './attempt-result.ts';
import type { DestinationGroup } from './destinations.ts';
import type { DeliveryMetrics } from './metrics.ts';
import type { MxRouter } from './mx-route.ts';
import type { SessionPool } from './session-pool.ts';
import { openSmtpSession, type SessionOpening, type SendEnvelope } from './smtp-session.ts';
import type { Clock } from '../clock.ts';

export interface SendContext {
  readonly delivery: DeliveryConfig;
  readonly heloName: string;
  readonly spool: Spool;
  readonly pool: SessionPool;
  readonly mxRouter: MxRouter;
  readonly dkimKeys: DkimKeyring;
  readonly signingPool: SigningPool;
  readonly smarthostAuth: { readonly user: string; readonly pass: string } | undefined;
  readonly metrics: DeliveryMetrics;
  /** Whether auth-withheld was logged already (once per service; every occurrence is counted). */
  readonly authWithheldLogged: { value: boolean };
  /** Whether auth-refused was logged already (once per service; every occurrence is counted). */
  readonly authRefusedLogged: { value: boolean };
  readonly logger: Logger;
  readonly now: Clock;
  /** Aborted when delivery stops for good: sessions in progress end at once (drain). */
  readonly signal: AbortSignal;
}

export async function sendGroup(
  context: SendContext,
  message: QueuedMessage,
  group: DestinationGroup,
): Promise<AttemptResult[]> {
  const mode = context.delivery.mode;
  const recipients = group.indexes.map((index) => message.recipients[index]?.recipient.address ?? '');
  const outcome = await context.pool.use(
    group.destination,
    () => openSession(context, group.destination),
    async (session) => {
      context.metrics.tlsSessions.inc({ result: session.secure ? 'tls' : 'plaintext', mode });
      // With `tls: none` plaintext is the configuration, said once at start (tls-off), not a
      // per-message surprise.
      const plaintextConfigured = mode === 'smarthost' && context.delivery.smarthost?.tls === 'none';
      if (!session.secure && !plaintextConfigured) {
        context.logger.warn(
          { event: 'tls-not-used', queueId: message.queueId, destination: group.destination },
          'sending without TLS, as policy allows',
        );
      }
      const signed = await signedBody(context, message);
      const envelope: SendEnvelope = {
        mailFrom: message.envelope.mailFrom,
        recipients,
        size: message.size + signed.prefix.length,
        ...dsnParameters(message, group),
      };
      return session.send(envelope, signed.body);
    },
  );
  if (outcome.ok) return outcome.value;
  if (outcome.result.kind === 'tls') context.metrics.tlsSessions.inc({ result: 'failed', mode });
  if (outcome.result.kind === 'auth-withheld') withheldAuth(context, group.destination);
  if (outcome.result.kind === 'auth-refused') refusedAuth(context, group.destination, outcome.result);
  return recipients.map(() => outcome.result);
}

/** Counted every time; logged once per delivery service, as the cause is the next hop or the path to it. */
function withheldAuth(context: SendContext, destination: string): void {
  context.metrics.authWithheld.inc({ mode: context.delivery.mode });
  if (context.authWithheldLogged.value) return;
  context.authWithheldLogged.value = true;
  context.logger.error(
    { event: 'auth-withheld', destination },
    'the next hop did not establish TLS (STARTTLS not offered or stripped): credentials withheld, mail deferred',
  );
}

/** Counted every time; logged once per delivery service, like withheld credentials. */
function refusedAuth(context: SendContext, destination: string, result: AttemptResult): void {
  context.metrics.authRefused.inc({ mode: context.delivery.mode });
  if (context.authRefusedLogged.value) return;
  context.authRefusedLogged.value = true;
  context.logger.error(
    { event: 'auth-refused', destination, reply: replyLine(result) },
    'the next hop refused the relay credentials (delivery.smarthost.credentialsFile): mail deferred, not bounced',
  );
}

async function openSession(context: SendContext, destination: string): Promise<SessionOpening> {
  const { delivery } = context;
  const connectTimeoutMs = delivery.connectTimeoutSeconds * 1000;
  if (delivery.mode === 'smarthost' && delivery.smarthost !== undefined) {
    const { host, port, tls, verifyCertificate } = delivery.smarthost;
    const encrypted = tls === 'required' || tls === 'implicit';
    return openSmtpSession({
      host,
      port,
      heloName: context.heloName,
      tls: encrypted ? (verifyCertificate === false ? 'required' : 'verified') : tls,
      implicitTls: tls === 'implicit',
      ...(context.smarthostAuth === undefined ? {} : { auth: context.smarthostAuth }),
      connectTimeoutMs,
      signal: context.signal,
    });
  }
  const route = await context.mxRouter.connect(destination);
  if (!route.ok) return route;
  return openSmtpSession({
    host: route.address,
    port: delivery.mxPort,
    socket: route.socket,
    servername: route.hostname,
    heloName: context.heloName,
    tls: route.mtaStsEnforced ? 'verified' : delivery.allowPlaintextFallback ? 'opportunistic' : 'required',
    connectTimeoutMs,
    signal: context.signal,
  });
}

/**
 * DKIM signatures for the message: on a signing thread when its body is in memory (the body hash
 * computed here, relaxed-body.ts), in this thread when it must be read from the spool or the
 * thread fails.
 */
async function sign(context: SendContext, message: QueuedMessage): Promise<DkimResult> {
  const { spool, dkimKeys, signingPool } = context;
  const senderDomain = message.envelope.senderDomain;
  const signTime = new Date(context.now());
  const keys = senderDomain === undefined ? undefined : dkimKeys.get(senderDomain.toLowerCase());
  const kept = keys === undefined ? undefined : spool.keptBody(message.queueId);
  // Hashed here, the body need not be copied to the thread: only the header section goes.
  const inMemory = kept === undefined ? undefined : (splitAndHashRelaxed(kept) ?? kept);
  if (senderDomain !== undefined && keys !== undefined && inMemory !== undefined && signingPool.size > 0) {
    try {
      return await signingPool.sign({ senderDomain, keys, message: inMemory, signTime });
    } catch (error) {
      context.logger.warn(
        { event: 'dkim-thread-failed', queueId: message.queueId, err: error },
        'DKIM signing thread failed; signing in the main thread',
      );
    }
  }
  return signMessage(dkimKeys, senderDomain, inMemory ?? (() => spool.openBody(message.queueId)), signTime);
}

async function signedBody(
  context: SendContext,
  message: QueuedMessage,
): Promise<{ prefix: Buffer; body: Readable | Buffer }> {
  const { spool, metrics, logger } = context;
  const dkim = await sign(context, message);
  for (const { algorithm } of dkim.signed) metrics.dkimSignatures.inc({ algorithm, result: 'signed' });
  if (dkim.errors.length > 0) {
    metrics.dkimSignatures.inc({ algorithm: 'any', result: 'failed' }, dkim.errors.length);
    logger.error(
      { event: 'dkim-failed', queueId: message.queueId, errors: dkim.errors },
      'DKIM signing failed',
    );
  }
  const prefix = Buffer.from(dkim.signatures, 'utf8');
  // A body still in memory goes to the next hop as it is: no stream to build and pipe per message.
  const kept = spool.keptBody(message.queueId);
  if (kept !== undefined) return { prefix, body: prefix.length === 0 ? kept : Buffer.concat([prefix, kept]) };
  const body = spool.openBody(message.queueId);
  if (prefix.length === 0) return { prefix, body };
  return {
    prefix,
    body: Readable.from(
      (async function* () {
        yield prefix;
        for await (const chunk of body) yield chunk as Buffer;
      })(),
    ),
  };
}

/** RET/ENVID as given; NOTIFY/ORCPT only when every recipient of the transaction shares them. */
function dsnParameters(message: QueuedMessage, group: DestinationGroup): Pick<SendEnvelope, 'dsn'> {
  const { envelope } = message;
  const notifies = new Set(
    group.indexes.map((index) => message.recipients[index]?.recipient.notify?.join(',')),
  );
  const [notify] = notifies;
  const orcpt =
    group.indexes.length === 1 ? message.recipients[group.indexes[0] ?? 0]?.recipient.orcpt : undefined;
  const dsn = {
    ...(envelope.dsnReturn === undefined ? {} : { ret: envelope.dsnReturn }),
    ...(envelope.dsnEnvelopeId === undefined ? {} : { envid: envelope.dsnEnvelopeId }),
    ...(notifies.size === 1 && notify !== undefined ? { notify } : {}),
    ...(orcpt === undefined ? {} : { orcpt }),
  };
  return Object.keys(dsn).length === 0 ? {} : { dsn };
}
