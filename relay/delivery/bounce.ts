// Queues the RFC 3464 bounce for failed recipients, from the null sender, into the same spool, so the
// bounce is durable before the original's recipients are recorded as bounced.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { InboundEnvelope } from '../queue/message-sink.ts';
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { buildDsn, type FailedRecipient } from './dsn.ts';

const maxReturnedHeaderBytes = 64 * 1024;

export async function queueBounce(
  spool: Spool,
  reportingMta: string,
  message: QueuedMessage,
  failed: readonly FailedRecipient[],
  now: number,
): Promise<string> {
  const token = randomBytes(9).toString('hex');
  const parts = buildDsn({
    reportingMta,
    queueId: message.queueId,
    envelope: message.envelope,
    failed,
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
