// The DATA hook: a queue id, the body streamed into the spool (receive-body.ts), then the message
// counted and logged, and the 250 with its queue id only once the spool holds it.
import type { SMTPServerDataStream, SMTPServerOptions } from 'smtp-server';
import { clientErrorKind, logDataInterrupted } from './client-errors.ts';
import { inboundEnvelope } from './inbound-envelope.ts';
import { tenantNamespace } from './policy.ts';
import { receiveBody } from './receive-body.ts';
import { settle } from './replies.ts';
import type { SessionContext } from './session-context.ts';

export function dataHook(context: SessionContext): Required<SMTPServerOptions>['onData'] {
  const { deps, labels, state } = context;
  const { metrics, logger, listener } = deps;
  return (stream: SMTPServerDataStream, session, callback) => {
    const queueId = deps.sink.newQueueId();
    settle(
      async () => {
        const live = deps.live();
        const envelope = inboundEnvelope(session, state.transaction(session.envelope), deps.clock());
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
          throw context.rejection(session, outcome.reply, queueId);
        }
        metrics.tallies.messagesReceived.add(labels.listener);
        metrics.tallies.senderDomainMessages.add(envelope.senderDomain ?? 'undeclared');
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
        else context.unexpected(session)(error);
      },
    );
  };
}
