// RFC 3464 delivery status notifications, pure: a failure report for recipients that bounced, or a
// delay warning for recipients still being retried. The caller streams head + (original headers,
// or the full original for a failure report with RET=FULL) + tail into the spool.
import type { InboundEnvelope, InboundRecipient } from '../queue/message-sink.ts';

export interface ReportedRecipient {
  readonly recipient: InboundRecipient;
  readonly reply: string;
}

/** failed: Action failed (a bounce); delayed: Action delayed, still retried until willRetryUntil. */
export type ReportKind =
  { readonly action: 'failed' } | { readonly action: 'delayed'; readonly willRetryUntil: number };

export interface DsnInput {
  readonly reportingMta: string;
  /** The From address; MAILER-DAEMON@reportingMta when absent. */
  readonly from?: string;
  readonly queueId: string;
  readonly envelope: InboundEnvelope;
  readonly kind: ReportKind;
  readonly recipients: readonly ReportedRecipient[];
  readonly now: number;
  /** A random token: the MIME boundary and Message-ID must not be guessable from the input. */
  readonly token: string;
}

export interface DsnParts {
  readonly envelope: { readonly mailFrom: ''; readonly to: string };
  readonly head: string;
  /** Whether the whole original follows head (RET=FULL on a failure report) or only its header section. */
  readonly includeFullOriginal: boolean;
  readonly tail: string;
}

/** Whether a failure of this recipient is reported: never for the null sender, and only when NOTIFY allows. */
export function wantsFailureReport(envelope: InboundEnvelope, recipient: InboundRecipient): boolean {
  if (envelope.mailFrom === '') return false;
  return recipient.notify === undefined || recipient.notify.includes('FAILURE');
}

/** Whether a delay of this recipient is reported: never for the null sender; NOTIFY must allow DELAY when given. */
export function wantsDelayReport(envelope: InboundEnvelope, recipient: InboundRecipient): boolean {
  if (envelope.mailFrom === '') return false;
  return recipient.notify === undefined || recipient.notify.includes('DELAY');
}

export function buildDsn(input: DsnInput): DsnParts {
  const { envelope, reportingMta } = input;
  const mta = clean(reportingMta);
  const boundary = `=_mailfleet_dsn_${clean(input.token)}`;
  const date = rfc5322Date(input.now);
  const { kind } = input;
  // RET applies to failure reports; a delay warning carries the header section only (RFC 3461 4.3).
  const includeFullOriginal = kind.action === 'failed' && envelope.dsnReturn === 'FULL';
  const recipientLines = input.recipients.map(({ recipient, reply }) => humanLine(recipient, reply)).join('');
  const perRecipient = input.recipients
    .map(({ recipient, reply }) => recipientFields(recipient, reply, date, kind))
    .join('\r\n');
  const delayed = kind.action === 'delayed';
  const head = [
    `From: Mail Delivery System <${clean(input.from ?? `MAILER-DAEMON@${mta}`)}>`,
    `To: <${clean(envelope.mailFrom)}>`,
    `Subject: ${delayed ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
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
    ...(delayed
      ? [
          'Your message has not been delivered yet to one or more recipients. The mail system will',
          `keep trying until ${rfc5322Date(kind.willRetryUntil)}; you do not need to send it again.`,
        ]
      : ['Your message could not be delivered to one or more recipients:']),
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

function recipientFields(recipient: InboundRecipient, reply: string, date: string, kind: ReportKind): string {
  return [
    ...(recipient.orcpt === undefined ? [] : [`Original-Recipient: ${clean(recipient.orcpt)}`]),
    `Final-Recipient: rfc822; ${clean(recipient.address)}`,
    `Action: ${kind.action}`,
    `Status: ${kind.action === 'delayed' ? transientStatus(reply) : statusCode(reply)}`,
    `Diagnostic-Code: smtp; ${clean(reply)}`,
    `Last-Attempt-Date: ${date}`,
    ...(kind.action === 'delayed' ? [`Will-Retry-Until: ${rfc5322Date(kind.willRetryUntil)}`] : []),
    '',
  ].join('\r\n');
}

/** A delay is a transient condition: its status is 4.x.x even when the reply carried no code. */
function transientStatus(reply: string): string {
  const status = statusCode(reply);
  return status.startsWith('4.') ? status : '4.0.0';
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

/**
 * Longest value from input a report line carries: a line holds at most two (`<address>: reply`), so
 * no line of a report goes over RFC 5321's 998 octets (case 34), whatever a next hop answered.
 */
const MAX_VALUE_OCTETS = 480;

/**
 * No CR, LF or other control character from input ever reaches a header line (case 17), and no
 * value makes a line too long (case 34): longer ones are cut at a character boundary and marked.
 */
function clean(value: string): string {
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  if (Buffer.byteLength(text) <= MAX_VALUE_OCTETS) return text;
  const cut = Buffer.from(text)
    .subarray(0, MAX_VALUE_OCTETS - 3)
    .toString('utf8')
    .replace(/\uFFFD$/u, '');
  return `${cut}...`;
}
