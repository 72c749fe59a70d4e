// RFC 3464 delivery status notifications for failed recipients, pure: the caller streams
// head + (original headers, or the full original for RET=FULL) + tail into the spool.
import type { InboundEnvelope, InboundRecipient } from '../queue/message-sink.ts';

export interface FailedRecipient {
  readonly recipient: InboundRecipient;
  readonly reply: string;
}

export interface DsnInput {
  readonly reportingMta: string;
  readonly queueId: string;
  readonly envelope: InboundEnvelope;
  readonly failed: readonly FailedRecipient[];
  readonly now: number;
  /** A random token: the MIME boundary and Message-ID must not be guessable from the input. */
  readonly token: string;
}

export interface DsnParts {
  readonly envelope: { readonly mailFrom: ''; readonly to: string };
  readonly head: string;
  /** Whether the whole original follows head (RET=FULL) or only its header section. */
  readonly includeFullOriginal: boolean;
  readonly tail: string;
}

/** Whether a failure of this recipient is reported: never for the null sender, and only when NOTIFY allows. */
export function wantsFailureReport(envelope: InboundEnvelope, recipient: InboundRecipient): boolean {
  if (envelope.mailFrom === '') return false;
  return recipient.notify === undefined || recipient.notify.includes('FAILURE');
}

export function buildDsn(input: DsnInput): DsnParts {
  const { envelope, reportingMta } = input;
  const mta = clean(reportingMta);
  const boundary = `=_mailfleet_dsn_${clean(input.token)}`;
  const date = rfc5322Date(input.now);
  const includeFullOriginal = envelope.dsnReturn === 'FULL';
  const recipientLines = input.failed.map(({ recipient, reply }) => humanLine(recipient, reply)).join('');
  const perRecipient = input.failed
    .map(({ recipient, reply }) => recipientFields(recipient, reply, date))
    .join('\r\n');
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${mta}>`,
    `To: <${clean(envelope.mailFrom)}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${date}`,
    `Message-ID: <${clean(input.queueId)}.${clean(input.token)}@${mta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is the mail system at ${mta}.`,
    '',
    'Your message could not be delivered to one or more recipients:',
    '',
    `${recipientLines}--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${mta}`,
    `X-Mailfleet-Queue-ID: ${clean(input.queueId)}`,
    ...(envelope.dsnEnvelopeId === undefined
      ? []
      : [`Original-Envelope-Id: ${clean(envelope.dsnEnvelopeId)}`]),
    `Arrival-Date: ${rfc5322Date(envelope.receivedAt)}`,
    '',
    perRecipient,
    `--${boundary}`,
    `Content-Type: ${includeFullOriginal ? 'message/rfc822' : 'text/rfc822-headers'}`,
    '',
    '',
  ].join('\r\n');
  return {
    envelope: { mailFrom: '', to: envelope.mailFrom },
    head,
    includeFullOriginal,
    tail: `\r\n--${boundary}--\r\n`,
  };
}

function humanLine(recipient: InboundRecipient, reply: string): string {
  return `<${clean(recipient.address)}>: ${clean(reply)}\r\n\r\n`;
}

function recipientFields(recipient: InboundRecipient, reply: string, date: string): string {
  return [
    ...(recipient.orcpt === undefined ? [] : [`Original-Recipient: ${clean(recipient.orcpt)}`]),
    `Final-Recipient: rfc822; ${clean(recipient.address)}`,
    'Action: failed',
    `Status: ${statusCode(reply)}`,
    `Diagnostic-Code: smtp; ${clean(reply)}`,
    `Last-Attempt-Date: ${date}`,
    '',
  ].join('\r\n');
}

/** The RFC 3463 status in a reply line, or one derived from its class. */
export function statusCode(reply: string): string {
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  if (enhanced?.[1] !== undefined) return enhanced[1];
  return reply.startsWith('4') ? '4.0.0' : '5.0.0';
}

export function rfc5322Date(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace(/GMT$/, '+0000');
}

/** No CR, LF or other control character from input ever reaches a header line (case 17). */
function clean(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}
