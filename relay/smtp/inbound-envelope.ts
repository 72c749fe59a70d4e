// The facts of a session the spool keeps with a message (pure): smtp-server's session and envelope
// in, the relay's InboundEnvelope out.
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { DsnNotify, InboundEnvelope, InboundRecipient } from '../queue/message-sink.ts';
import type { TransactionState } from './session-state.ts';

/** The authenticated user of a session, undefined before (or without) AUTH. */
export function userOf(session: SMTPServerSession): string | undefined {
  const user: unknown = session.user;
  return typeof user === 'string' && user !== '' ? user : undefined;
}

/** MAIL FROM's SIZE= parameter as a number, undefined when the client declared none. */
export function declaredSize(address: SMTPServerAddress): number | undefined {
  const size = address.args ? address.args['SIZE'] : undefined;
  return typeof size === 'string' ? Number(size) : undefined;
}

const dsnNotifyValues = new Set<string>(['SUCCESS', 'FAILURE', 'DELAY', 'NEVER']);

export function inboundEnvelope(
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
