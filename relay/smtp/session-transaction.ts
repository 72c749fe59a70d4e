// The hooks that open a transaction: MAIL FROM (retiring relay, TLS required, source route, declared
// size, the sender policy, spool space, the rate limits) and RCPT TO (source route, the recipient
// policy). The first check that fails is the reply.
import type { SMTPServerAddress, SMTPServerOptions } from 'smtp-server';
import { declaredSize } from './inbound-envelope.ts';
import type { RateLimiters } from './live-settings.ts';
import { checkDeclaredSize, checkRecipient, checkSender, serviceAccountNamespace } from './policy.ts';
import { replies, settleNow, type SmtpReply } from './replies.ts';
import type { SessionContext } from './session-context.ts';
import { commandHadSourceRoute } from './source-route.ts';

/** Who a transaction is charged to, by each rate limit's key. */
export interface RateLimitKeys {
  readonly clientIp: string;
  readonly user: string | undefined;
  readonly senderDomain: string | undefined;
  readonly namespace: string | undefined;
}

export type RateLimitKey = 'client_ip' | 'user' | 'sender_domain' | 'namespace';

/**
 * Takes one token from every configured limit that applies (all of them, also after one is
 * exhausted) and names the first exhausted one, in the order client IP, user, sender domain,
 * namespace; undefined when the transaction may go on.
 */
export function rateLimitRefusal(
  limiters: RateLimiters,
  keys: RateLimitKeys,
  now: number,
): { readonly key: RateLimitKey; readonly reply: SmtpReply } | undefined {
  const { perClientIp, perUser, perSenderDomain, perNamespace } = limiters;
  if (!perClientIp && !perUser && !perSenderDomain && !perNamespace) return undefined;
  const taken: [RateLimitKey, SmtpReply, boolean | undefined][] = [
    ['client_ip', replies.rateLimitedClient, perClientIp?.take(keys.clientIp, now)],
    ['user', replies.rateLimitedUser, keys.user === undefined ? true : perUser?.take(keys.user, now)],
    [
      'sender_domain',
      replies.rateLimitedDomain,
      keys.senderDomain === undefined ? true : perSenderDomain?.take(keys.senderDomain, now),
    ],
    [
      'namespace',
      replies.rateLimitedNamespace,
      keys.namespace === undefined ? true : perNamespace?.take(keys.namespace, now),
    ],
  ];
  const refused = taken.find(([, , allowed]) => allowed === false);
  return refused === undefined ? undefined : { key: refused[0], reply: refused[1] };
}

export function mailFromHook(context: SessionContext): Required<SMTPServerOptions>['onMailFrom'] {
  const { deps, labels, state } = context;
  return (address: SMTPServerAddress, session, callback) => {
    settleNow(
      () => {
        const live = deps.live();
        // A session opened before the relay was retired may finish its transaction, not start one.
        if (live.config.retiring) throw context.rejection(session, replies.shuttingDown);
        if (deps.listener.requireTls === true && !session.secure)
          throw context.rejection(session, replies.tlsRequired);
        const policy = live.config.policy;
        const client = context.clientFacts(session);
        const size = declaredSize(address);
        if (commandHadSourceRoute(session)) throw context.rejection(session, replies.senderSourceRoute);
        const sizeVerdict = checkDeclaredSize(policy, size);
        if (!sizeVerdict.accept) throw context.rejection(session, sizeVerdict.reply);
        const verdict = checkSender(policy, client, address.address);
        if (!verdict.accept) throw context.rejection(session, verdict.reply);
        if (!deps.sink.hasSpace()) throw context.rejection(session, replies.noSpace);
        const limited = rateLimitRefusal(
          live.limiters,
          {
            clientIp: session.remoteAddress,
            user: client.user,
            senderDomain: verdict.value,
            namespace: serviceAccountNamespace(client.user),
          },
          deps.clock(),
        );
        if (limited !== undefined) {
          deps.metrics.rateLimitHits.inc({ ...labels, key: limited.key });
          throw context.rejection(session, limited.reply);
        }
        state.beginTransaction(session.envelope, { senderDomain: verdict.value });
      },
      callback,
      context.unexpected(session),
    );
  };
}

export function rcptToHook(context: SessionContext): Required<SMTPServerOptions>['onRcptTo'] {
  const { deps } = context;
  return (address: SMTPServerAddress, session, callback) => {
    settleNow(
      () => {
        if (commandHadSourceRoute(session)) throw context.rejection(session, replies.recipientSourceRoute);
        const policy = deps.live().config.policy;
        const verdict = checkRecipient(
          policy,
          context.clientFacts(session),
          address.address,
          session.envelope.rcptTo.length,
        );
        if (!verdict.accept) throw context.rejection(session, verdict.reply);
      },
      callback,
      context.unexpected(session),
    );
  };
}
