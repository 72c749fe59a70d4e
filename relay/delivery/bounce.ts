// Queues an RFC 3464 report (the bounce for failed recipients, or a delay warning), from the null
// sender, into the same spool, so the report is durable before the original's recipients are
// recorded as bounced (or as warned).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { InboundEnvelope } from '../queue/message-sink.ts';
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { buildDsn, type ReportedRecipient, type ReportKind } from './dsn.ts';

const maxReturnedHeaderBytes = 64 * 1024;

export interface ReportSender {
  /** The relay's hostname: Reporting-MTA of the report. */
  readonly reportingMta: string;
  /** The report's From address (queue.reportsFrom); MAILER-DAEMON@reportingMta when absent. */
  readonly from: string | undefined;
}

export async function queueBounce(
  spool: Spool,
  sender: ReportSender,
  message: QueuedMessage,
  kind: ReportKind,
  recipients: readonly ReportedRecipient[],
  now: number,
): Promise<string> {
  const token = randomBytes(9).toString('hex');
  const parts = buildDsn({
    reportingMta: sender.reportingMta,
    ...(sender.from === undefined ? {} : { from: sender.from }),
    queueId: message.queueId,
    envelope: message.envelope,
    kind,
    recipients,
    now,
    token,
  });
  const original = parts.includeFullOriginal
    ? spool.openBody(message.queueId)
    : Readable.from([await spool.readHeaderSection(message.queueId, maxReturnedHeaderBytes)]);
  const body = Readable.from(
    (async function* () {
      yield Buffer.from(parts.head, 'utf8');
      for await (const chunk of original) yield chunk as Buffer;
      yield Buffer.from(parts.tail, 'utf8');
    })(),
  );
  const envelope: InboundEnvelope = {
    mailFrom: '',
    recipients: [{ address: parts.envelope.to }],
    smtpUtf8: message.envelope.smtpUtf8,
    eightBitMime: message.envelope.eightBitMime,
    client: { address: '127.0.0.1', hostname: 'localhost' },
    receivedAt: now,
  };
  const queueId = spool.newQueueId();
  await spool.accept(queueId, envelope, body);
  return queueId;
}
