// The smtp-server hooks of one listener: gather the facts, ask the pure policy, act on the verdict.
// Every hook answers through settle() (settleNow() when its work is synchronous), so a thrown
// SmtpError becomes exactly its reply. The hooks are built from named parts that share one
// SessionContext (its state explicit in SessionState): AUTH in session-auth.ts, MAIL and RCPT in
// session-transaction.ts, DATA in session-data.ts.
import type { SMTPServerOptions } from 'smtp-server';
import type { TLSSocket } from 'node:tls';
import { tlsProtocolLabel } from '../metrics.ts';
import type { RelayAuthHook } from './connection.ts';
import { settleNow } from './replies.ts';
import { authHook } from './session-auth.ts';
import { sessionContext, type SessionDeps } from './session-context.ts';
import { dataHook } from './session-data.ts';
import { mailFromHook, rcptToHook } from './session-transaction.ts';

export type { SessionDeps } from './session-context.ts';

type Hooks = Required<
  Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'>
> & { readonly onAuth: RelayAuthHook };

export function createSessionHooks(deps: SessionDeps): Hooks {
  const context = sessionContext(deps);
  const { metrics, logger } = deps;
  const { labels, state } = context;
  return {
    onConnect(session, callback) {
      settleNow(
        () => {
          // The connection limits were applied when the connection was accepted (connection-slots.ts).
          state.opened(session);
          metrics.tallies.connections.add(labels.listener);
          metrics.tallies.activeSessions.add(labels.listener, 1);
        },
        callback,
        context.unexpected(session),
      );
    },

    onClose(session) {
      if (state.closed(session)) metrics.tallies.activeSessions.add(labels.listener, -1);
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

    onAuth: authHook(context),
    onMailFrom: mailFromHook(context),
    onRcptTo: rcptToHook(context),
    onData: dataHook(context),
  };
}
