// Drain (case 21): what is left when the drain deadline passes goes to peer relays over SMTP. The
// local copy is removed only after the peer's 250 for every recipient still open.
import type { Logger } from 'pino';
import type { InboundEnvelope } from '../queue/message-sink.ts';
import { isFinal } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { replyLine } from './attempt-result.ts';
import { classify } from './classify.ts';
import type { DeliveryMetrics } from './metrics.ts';
import { openSmtpSession, type SendEnvelope, type SmtpSession } from './smtp-session.ts';

export interface HandoffReport {
  readonly handedOff: number;
  readonly remaining: number;
}

export interface HandoffOptions {
  readonly spool: Spool;
  readonly peers: readonly string[];
  readonly heloName: string;
  readonly connectTimeoutMs: number;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
}

export async function handOffQueue(options: HandoffOptions): Promise<HandoffReport> {
  const { spool, peers, logger, metrics } = options;
  let handedOff = 0;
  const sessions = new Map<string, SmtpSession>();
  let next = 0;
  try {
    for (const message of spool.list()) {
      if (peers.length === 0) break;
      const open = message.recipients.filter((state) => !isFinal(state.status));
      let done = false;
      for (let tries = 0; tries < peers.length && !done; tries += 1) {
        const peer = peers[next % peers.length] ?? '';
        next += 1;
        const session = await sessionFor(options, sessions, peer);
        if (session === undefined) continue;
        const results = await session.send(
          {
            mailFrom: message.envelope.mailFrom,
            recipients: open.map((state) => state.recipient.address),
            size: message.size,
            ...handoffDsn(message.envelope),
          },
          spool.openBody(message.queueId),
        );
        if (!session.reusable) sessions.delete(peer);
        done = results.every((result) => classify(result) === 'delivered');
        if (done) {
          await spool.remove(message.queueId);
          handedOff += 1;
          metrics.handoffs.inc({ result: 'handed-off' });
          logger.info(
            { event: 'handed-off', queueId: message.queueId, peer },
            'message handed to a peer relay',
          );
        } else {
          metrics.handoffs.inc({ result: 'refused' });
          logger.warn(
            { event: 'handoff-refused', queueId: message.queueId, peer, replies: results.map(replyLine) },
            'peer refused the message',
          );
        }
      }
    }
  } finally {
    for (const session of sessions.values()) session.close();
  }
  return { handedOff, remaining: spool.size() };
}

/** RET and ENVID travel with the message; per-recipient NOTIFY/ORCPT do not (see docs/queue.md). */
function handoffDsn(envelope: InboundEnvelope): Pick<SendEnvelope, 'dsn'> {
  if (envelope.dsnReturn === undefined && envelope.dsnEnvelopeId === undefined) return {};
  return {
    dsn: {
      ...(envelope.dsnReturn === undefined ? {} : { ret: envelope.dsnReturn }),
      ...(envelope.dsnEnvelopeId === undefined ? {} : { envid: envelope.dsnEnvelopeId }),
    },
  };
}

async function sessionFor(
  options: HandoffOptions,
  sessions: Map<string, SmtpSession>,
  peer: string,
): Promise<SmtpSession | undefined> {
  const existing = sessions.get(peer);
  if (existing?.reusable === true) return existing;
  const match = /^\[?(.+?)\]?:(\d+)$/.exec(peer);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const opening = await openSmtpSession({
    host: match[1],
    port: Number(match[2]),
    heloName: options.heloName,
    tls: 'opportunistic',
    connectTimeoutMs: options.connectTimeoutMs,
  });
  if (!opening.ok) {
    options.metrics.handoffs.inc({ result: 'unreachable' });
    options.logger.warn(
      { event: 'handoff-peer-unreachable', peer, reply: replyLine(opening.result) },
      'peer relay unreachable',
    );
    return undefined;
  }
  sessions.set(peer, opening.session);
  return opening.session;
}
