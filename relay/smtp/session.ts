// The smtp-server hooks of one listener: gather the facts, ask the pure policy, act on the verdict.
// Every hook answers through settle(), so a thrown SmtpError becomes exactly its reply.
import type {
  SMTPServerAddress,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ListenerConfig } from '../config/types.ts';
import type { RelayLogger } from '../log.ts';
import { tlsProtocolLabel, type RelayMetrics } from '../metrics.ts';
import type { DsnNotify, InboundEnvelope, InboundRecipient, MessageSink } from '../queue/message-sink.ts';
import type { LiveSettings } from './live-settings.ts';
import { authRefusal, recordAuthFailure, type AuthFailureBuckets } from './auth-throttle.ts';
import { clientErrorKind, logDataInterrupted } from './client-errors.ts';
import {
  checkDeclaredSize,
  checkRecipient,
  checkSender,
  serviceAccountNamespace,
  tenantNamespace,
  type ClientFacts,
} from './policy.ts';
import { replies, settle, SmtpError, type SmtpReply } from './replies.ts';
import { receiveBody } from './receive-body.ts';
import { commandHadSourceRoute } from './source-route.ts';
import { verifyPassword } from './users.ts';
import type { Clock } from '../clock.ts';
import type { RelayAuthentication, RelayAuthHook } from './connection.ts';
import type { TokenFailureReason } from './service-account-token.ts';

export interface SessionDeps {
  readonly listener: ListenerConfig;
  readonly live: () => LiveSettings;
  readonly sink: MessageSink;
  readonly metrics: RelayMetrics;
  readonly logger: RelayLogger;
  readonly clock: Clock;
  /** A token named a key id the config does not hold: the operator may have delivered new keys. */
  readonly onUnknownKey: () => void;
}

type Hooks = Required<
  Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'>
> & { readonly onAuth: RelayAuthHook };

const tokenMethods = new Set<RelayAuthentication['method']>(['OAUTHBEARER', 'XOAUTH2']);

interface TransactionState {
  senderDomain: string | undefined;
}

export function createSessionHooks(deps: SessionDeps): Hooks {
  const { listener, metrics, logger } = deps;
  const labels = { listener: listener.name };
  const counted = new WeakSet<SMTPServerSession>();
  const authFailures = new WeakMap<SMTPServerSession, number>();
  const transactions = new WeakMap<SMTPServerSession['envelope'], TransactionState>();

  const rejection = (session: SMTPServerSession, reply: SmtpReply, queueId?: string): SmtpError => {
    metrics.rejections.inc({ ...labels, reason: reply.reason });
    logger.info(
      {
        event: 'rejected',
        queueId,
        session: session.id,
        client: session.remoteAddress,
        reason: reply.reason,
      },
      `${reply.code} ${reply.enhancedCode} ${reply.text}`,
    );
    return new SmtpError(reply);
  };
  const unexpected = (session: SMTPServerSession) => (error: unknown) => {
    logger.error(
      { event: 'internal_error', session: session.id, err: error },
      'unexpected error in SMTP hook',
    );
  };
  const clientFacts = (session: SMTPServerSession): ClientFacts => {
    const user = userOf(session);
    return {
      inAllowedNetwork: deps.live().allowedNetworks.contains(session.remoteAddress),
      ...(user === undefined ? {} : { user }),
    };
  };

  return {
    onConnect(session, callback) {
      settle(
        async () => {
          // The connection limits were applied when the connection was accepted (connection-slots.ts).
          counted.add(session);
          metrics.connections.inc(labels);
          metrics.activeSessions.inc(labels);
          await Promise.resolve();
        },
        callback,
        unexpected(session),
      );
    },

    onClose(session) {
      if (!counted.has(session)) return;
      counted.delete(session);
      metrics.activeSessions.dec(labels);
    },

    onSecure(socket, session, callback) {
      const protocol = (socket as TLSSocket).getProtocol();
      metrics.tlsSessions.inc({ ...labels, protocol: tlsProtocolLabel(protocol) });
      logger.debug(
        { event: 'tls', session: session.id, protocol, servername: session.servername },
        'TLS established',
      );
      callback();
    },

    onAuth(auth, session, callback) {
      settle<SMTPServerAuthenticationResponse>(
        async () => {
          const live = deps.live();
          const now = deps.clock();
          const username = auth.username ?? '';
          const buckets: AuthFailureBuckets = {
            perAddress: live.limiters.authFailuresPerIp,
            perAddressUser: live.limiters.authFailuresPerIpUser,
          };
          const refusedBy = authRefusal(buckets, session.remoteAddress, username, now);
          if (refusedBy !== undefined) {
            metrics.authFailures.inc({ ...labels, reason: 'rate_limited' });
            metrics.rateLimitHits.inc({ ...labels, key: refusedBy });
            throw rejection(session, replies.authRateLimited);
          }
          const outcome = tokenMethods.has(auth.method)
            ? await verifyToken(live, auth.accessToken ?? '', now)
            : {
                user: (await verifyPassword(live.users, username, auth.password ?? '', {
                  ttlMs: (live.config.auth?.loginCacheSeconds ?? 0) * 1000,
                  now,
                }))
                  ? username
                  : undefined,
              };
          if (outcome.user !== undefined) {
            logger.info(
              {
                event: 'authenticated',
                session: session.id,
                user: outcome.user,
                method: auth.method,
                ...('pod' in outcome && outcome.pod !== undefined ? { pod: outcome.pod } : {}),
              },
              'AUTH ok',
            );
            return { user: outcome.user };
          }
          const delayMs = recordAuthFailure(buckets, session.remoteAddress, username, deps.clock());
          const tokenFailure = 'reason' in outcome ? outcome.reason : undefined;
          metrics.authFailures.inc({ ...labels, reason: tokenFailure ? 'bad_token' : 'bad_credentials' });
          if (tokenFailure) metrics.tokenAuthFailures.inc({ ...labels, reason: tokenFailure });
          if (tokenFailure === 'unknown_key') deps.onUnknownKey();
          const failures = (authFailures.get(session) ?? 0) + 1;
          authFailures.set(session, failures);
          logger.info(
            {
              event: 'auth_failed',
              session: session.id,
              client: session.remoteAddress,
              user: username,
              method: auth.method,
              ...(tokenFailure
                ? { reason: tokenFailure, detail: 'detail' in outcome ? outcome.detail : '' }
                : {}),
              failures,
              delayMs,
            },
            'AUTH failed',
          );
          if (delayMs > 0) {
            metrics.authFailureDelay.observe(labels, delayMs / 1000);
            // Not ref'd: a held-back reply never keeps a stopping relay alive.
            await sleep(delayMs, undefined, { ref: false });
          }
          const allowed = live.config.auth?.maxFailuresPerConnection ?? 3;
          if (failures >= allowed) throw rejection(session, replies.authFailedClosing);
          throw rejection(session, replies.authFailed);
        },
        callback,
        unexpected(session),
      );
    },

    onMailFrom(address: SMTPServerAddress, session, callback) {
      settle(
        async () => {
          const live = deps.live();
          // A session opened before the relay was retired may finish its transaction, not start one.
          if (live.config.retiring) throw rejection(session, replies.shuttingDown);
          if (listener.requireTls === true && !session.secure) throw rejection(session, replies.tlsRequired);
          const policy = live.config.policy;
          const client = clientFacts(session);
          const size = declaredSize(address);
          if (commandHadSourceRoute(session)) throw rejection(session, replies.senderSourceRoute);
          const sizeVerdict = checkDeclaredSize(policy, size);
          if (!sizeVerdict.accept) throw rejection(session, sizeVerdict.reply);
          const verdict = checkSender(policy, client, address.address);
          if (!verdict.accept) throw rejection(session, verdict.reply);
          if (!deps.sink.hasSpace()) throw rejection(session, replies.noSpace);
          const now = deps.clock();
          const limiters = live.limiters;
          const namespace = serviceAccountNamespace(client.user);
          const limited: [string, SmtpReply, boolean | undefined][] = [
            ['client_ip', replies.rateLimitedClient, limiters.perClientIp?.take(session.remoteAddress, now)],
            [
              'user',
              replies.rateLimitedUser,
              client.user === undefined ? true : limiters.perUser?.take(client.user, now),
            ],
            [
              'sender_domain',
              replies.rateLimitedDomain,
              verdict.value === undefined ? true : limiters.perSenderDomain?.take(verdict.value, now),
            ],
            [
              'namespace',
              replies.rateLimitedNamespace,
              namespace === undefined ? true : limiters.perNamespace?.take(namespace, now),
            ],
          ];
          for (const [key, reply, allowed] of limited) {
            if (allowed === false) {
              metrics.rateLimitHits.inc({ ...labels, key });
              throw rejection(session, reply);
            }
          }
          transactions.set(session.envelope, { senderDomain: verdict.value });
          await Promise.resolve();
        },
        callback,
        unexpected(session),
      );
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      settle(
        async () => {
          if (commandHadSourceRoute(session)) throw rejection(session, replies.recipientSourceRoute);
          const policy = deps.live().config.policy;
          const verdict = checkRecipient(
            policy,
            clientFacts(session),
            address.address,
            session.envelope.rcptTo.length,
          );
          if (!verdict.accept) throw rejection(session, verdict.reply);
          await Promise.resolve();
        },
        callback,
        unexpected(session),
      );
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const queueId = deps.sink.newQueueId();
      settle(
        async () => {
          const live = deps.live();
          const envelope = inboundEnvelope(session, transactions.get(session.envelope), deps.clock());
          const outcome = await receiveBody({
            stream,
            session,
            queueId,
            envelope,
            config: live.config,
            listener,
            sink: deps.sink,
          });
          if (!outcome.ok) {
            if (outcome.reply.reason === 'pipelining') metrics.pipeliningViolations.inc(labels);
            throw rejection(session, outcome.reply, queueId);
          }
          metrics.messagesReceived.inc(labels);
          metrics.senderDomainMessages.inc({ sender_domain: envelope.senderDomain ?? 'undeclared' });
          const tenant = tenantNamespace(live.config.policy, envelope.authenticatedUser);
          if (tenant !== undefined) metrics.serviceAccountMessages.inc({ namespace: tenant });
          metrics.messageSize.observe(labels, outcome.size);
          logger.info(
            {
              event: 'received',
              queueId,
              client: session.remoteAddress,
              user: envelope.authenticatedUser,
              size: outcome.size,
              recipients: envelope.recipients.length,
              listener: listener.name,
            },
            'message queued',
          );
          return `2.6.0 Ok: queued as ${queueId}`;
        },
        callback,
        (error) => {
          if (clientErrorKind(error) === 'client_disconnected')
            logDataInterrupted(logger, { session: session.id, client: session.remoteAddress, queueId });
          else unexpected(session)(error);
        },
      );
    },
  };
}

type AuthOutcome =
  | { readonly user: string; readonly pod?: string | undefined }
  | { readonly user?: undefined; readonly reason?: TokenFailureReason; readonly detail?: string };

/** A ServiceAccount token's identity, or why it was refused. */
async function verifyToken(live: LiveSettings, token: string, now: number): Promise<AuthOutcome> {
  const verifier = live.tokenVerifier;
  if (verifier === undefined) return { reason: 'unknown_issuer', detail: 'tokenAuth is not configured' };
  const verdict = await verifier.verify(token, now);
  return verdict.ok
    ? { user: verdict.identity.user, pod: verdict.identity.pod }
    : { reason: verdict.reason, detail: verdict.detail };
}

function userOf(session: SMTPServerSession): string | undefined {
  const user: unknown = session.user;
  return typeof user === 'string' && user !== '' ? user : undefined;
}

function declaredSize(address: SMTPServerAddress): number | undefined {
  const size = address.args ? address.args['SIZE'] : undefined;
  return typeof size === 'string' ? Number(size) : undefined;
}

const dsnNotifyValues = new Set<string>(['SUCCESS', 'FAILURE', 'DELAY', 'NEVER']);

function inboundEnvelope(
  session: SMTPServerSession,
  transaction: TransactionState | undefined,
  receivedAt: number,
): InboundEnvelope {
  const envelope = session.envelope;
  const recipients = envelope.rcptTo.map((rcpt): InboundRecipient => {
    const notify = rcpt.dsn?.notify?.filter((value): value is DsnNotify => dsnNotifyValues.has(value));
    return {
      address: rcpt.address,
      ...(notify && notify.length > 0 ? { notify } : {}),
      ...(rcpt.dsn?.orcpt ? { orcpt: rcpt.dsn.orcpt } : {}),
    };
  });
  const ret = envelope.dsn?.ret;
  const envid = envelope.dsn?.envid;
  const user = userOf(session);
  const helo = session.hostNameAppearsAs;
  const hostname = session.clientHostname;
  return {
    mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    recipients,
    ...(ret === 'FULL' || ret === 'HDRS' ? { dsnReturn: ret } : {}),
    ...(envid ? { dsnEnvelopeId: envid } : {}),
    smtpUtf8: envelope.smtpUtf8 === true,
    eightBitMime: envelope.bodyType === '8bitmime',
    client: {
      address: session.remoteAddress,
      ...(hostname && !hostname.startsWith('[') ? { hostname } : {}),
      ...(helo ? { heloName: helo } : {}),
    },
    ...(user === undefined ? {} : { authenticatedUser: user }),
    ...(transaction?.senderDomain === undefined ? {} : { senderDomain: transaction.senderDomain }),
    receivedAt,
  };
}
