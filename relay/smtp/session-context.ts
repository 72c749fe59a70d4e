// What every hook of one listener shares (session.ts builds it once per listener): its
// dependencies, its metric labels, the sessions' state, and the three ways a hook reports — a
// counted and logged rejection, an unexpected error, the facts the policy judges a client by.
import type { SMTPServerSession } from 'smtp-server';
import type { Clock } from '../clock.ts';
import type { ListenerConfig } from '../config/types.ts';
import type { RelayLogger } from '../log.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { MessageSink } from '../queue/message-sink.ts';
import { userOf } from './inbound-envelope.ts';
import type { LiveSettings } from './live-settings.ts';
import type { ClientFacts } from './policy.ts';
import { SmtpError, type SmtpReply } from './replies.ts';
import { SessionState } from './session-state.ts';

export interface SessionDeps {
  readonly listener: ListenerConfig;
  readonly live: () => LiveSettings;
  readonly sink: MessageSink;
  readonly metrics: RelayMetrics;
  readonly logger: RelayLogger;
  readonly clock: Clock;
  /** A token named a key id the config does not hold: the operator may have delivered new keys. */
  readonly onUnknownKey: () => void;
  /** TEST ONLY: unknown AUTH names are refused without the decoy hash (StartRelayOptions). */
  readonly testOnlyNoDecoyHash?: boolean;
}

export interface SessionContext {
  readonly deps: SessionDeps;
  readonly labels: { readonly listener: string };
  readonly state: SessionState;
  /** Counts and logs a refusal; the hook throws what it returns, which settle() turns into the reply. */
  rejection(session: SMTPServerSession, reply: SmtpReply, queueId?: string): SmtpError;
  /** Logs an error no catalogue reply stands for (the client gets 451 4.3.0). */
  unexpected(session: SMTPServerSession): (error: unknown) => void;
  clientFacts(session: SMTPServerSession): ClientFacts;
}

export function sessionContext(deps: SessionDeps): SessionContext {
  const { metrics, logger } = deps;
  const labels = { listener: deps.listener.name };
  return {
    deps,
    labels,
    state: new SessionState(),
    rejection(session, reply, queueId) {
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
    },
    unexpected: (session) => (error) => {
      logger.error(
        { event: 'internal_error', session: session.id, err: error },
        'unexpected error in SMTP hook',
      );
    },
    clientFacts(session) {
      const user = userOf(session);
      return {
        inAllowedNetwork: deps.live().allowedNetworks.contains(session.remoteAddress),
        ...(user === undefined ? {} : { user }),
      };
    },
  };
}
