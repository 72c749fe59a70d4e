// SMTP errors are values: one error type (code + enhanced code + text), one catalogue of the
// replies the relay gives, and one adapter from a thrown error to the smtp-server callback error.

export class SmtpError extends Error {
  readonly code: number;
  readonly enhancedCode: string;
  readonly text: string;
  /** Bounded reason label for metrics and logs. */
  readonly reason: string;

  constructor(reply: SmtpReply) {
    super(`${reply.code} ${reply.enhancedCode} ${reply.text}`);
    this.name = 'SmtpError';
    this.code = reply.code;
    this.enhancedCode = reply.enhancedCode;
    this.text = reply.text;
    this.reason = reply.reason;
  }
}

export interface SmtpReply<Reason extends string = string> {
  readonly code: number;
  readonly enhancedCode: string;
  readonly text: string;
  readonly reason: Reason;
}

function reply<Reason extends string>(
  code: number,
  enhancedCode: string,
  text: string,
  reason: Reason,
): SmtpReply<Reason> {
  return Object.freeze({ code, enhancedCode, text, reason });
}

export const replies = {
  relayDenied: reply(554, '5.7.1', 'Relay access denied', 'relay_denied'),
  senderDomainNotDeclared: reply(553, '5.7.1', 'Sender domain not allowed here', 'sender_domain'),
  senderNotAllowedForUser: reply(
    553,
    '5.7.1',
    'Not authorised to send for this sender domain',
    'sender_user',
  ),
  // A token of one namespace sending as a domain its SenderDomain does not grant it (issue 15).
  senderNotAllowedForServiceAccount: reply(
    553,
    '5.7.1',
    'ServiceAccount not authorised to send for this sender domain',
    'sender_service_account',
  ),
  recipientDomainDenied: reply(554, '5.7.1', 'Recipient domain not allowed', 'recipient_domain'),
  recipientRouting: reply(501, '5.1.3', 'Source routes, % and ! are not accepted in addresses', 'routing'),
  // A source route (RFC 5321 appendix C) is valid syntax that the relay refuses to honour: 553
  // "mailbox name not allowed", with the sender (5.1.7) or destination (5.1.3) address status.
  senderSourceRoute: reply(
    553,
    '5.1.7',
    'Source routes are not accepted in the sender address',
    'source_route',
  ),
  recipientSourceRoute: reply(
    553,
    '5.1.3',
    'Source routes are not accepted in recipient addresses',
    'source_route',
  ),
  badAddress: reply(501, '5.1.3', 'Bad address syntax', 'bad_address'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients', 'recipient_limit'),
  messageTooBig: reply(552, '5.3.4', 'Message size exceeds fixed limit', 'size'),
  bareLineEnding: reply(550, '5.5.2', 'Bare CR or LF in message data is not accepted', 'bare_line_ending'),
  // Like a bare line ending, a line over RFC 5321's 998 octets breaks the DATA syntax (5.5.2); 550
  // because 500 is not a reply to the end of data (RFC 5321 4.3.2).
  lineTooLong: reply(
    550,
    '5.5.2',
    'Line longer than 998 octets in message data is not accepted',
    'line_too_long',
  ),
  pipeliningViolation: reply(554, '5.5.0', 'Message data sent before the 354 reply', 'pipelining'),
  mailLoop: reply(554, '5.4.6', 'Too many Received headers: mail loop', 'mail_loop'),
  noSpace: reply(452, '4.3.1', 'Insufficient system storage, try again later', 'no_space'),
  queueFailed: reply(451, '4.3.0', 'Message could not be queued, try again later', 'queue_error'),
  rateLimitedClient: reply(
    450,
    '4.7.1',
    'Rate limit reached for this client, try again later',
    'rate_client',
  ),
  rateLimitedUser: reply(450, '4.7.1', 'Rate limit reached for this user, try again later', 'rate_user'),
  rateLimitedDomain: reply(
    450,
    '4.7.1',
    'Rate limit reached for this sender domain, try again later',
    'rate_domain',
  ),
  rateLimitedNamespace: reply(
    450,
    '4.7.1',
    'Rate limit reached for this namespace, try again later',
    'rate_namespace',
  ),
  tooManyConnectionsFromIp: reply(
    421,
    '4.7.0',
    'Too many connections from your address',
    'ip_connection_limit',
  ),
  authFailed: reply(535, '5.7.8', 'Authentication credentials invalid', 'auth_failed'),
  authRateLimited: reply(454, '4.7.0', 'Too many authentication failures, try again later', 'auth_rate'),
  authFailedClosing: reply(
    421,
    '4.7.0',
    'Too many failed authentication attempts, closing connection',
    'auth_failed',
  ),
  authEncryptionRequired: reply(
    538,
    '5.7.11',
    'Encryption required for requested authentication mechanism',
    'auth_plaintext',
  ),
  authRequired: reply(530, '5.7.0', 'Authentication required', 'auth_required'),
  tlsRequired: reply(530, '5.7.0', 'Must issue a STARTTLS command first', 'tls_required'),
  sessionTimeout: reply(421, '4.4.2', 'Session time limit reached, closing connection', 'session_timeout'),
  commandTimeout: reply(421, '4.4.2', 'Timeout waiting for a command, closing connection', 'command_timeout'),
  // A retired relay (its SmtpRelay deleted) in place of the banner, and to a new MAIL.
  shuttingDown: reply(421, '4.3.2', 'Service shutting down', 'shutdown'),
} as const satisfies Record<string, SmtpReply>;

type RejectionReason = (typeof replies)[keyof typeof replies]['reason'];

/**
 * The `reason` label values of mailfleet_relay_rejections_total: every refusal the relay counts is
 * one of these replies, so the label values are the catalogue's reasons, in catalogue order.
 */
export const rejectionReasons: readonly RejectionReason[] = [
  ...new Set(Object.values(replies).map((entry) => entry.reason)),
];

/** A catalogue reply as one reply line: the enhanced code, then the text. */
export function replyLine(reply: SmtpReply): string {
  return `${reply.enhancedCode} ${reply.text}`;
}

/** The error smtp-server expects from a hook: `responseCode` is the code; the text leads with our enhanced code. */
export function toCallbackError(error: unknown): Error & { responseCode: number } {
  const reply = error instanceof SmtpError ? error : new SmtpError(replies.queueFailed);
  return Object.assign(new Error(`${reply.enhancedCode} ${reply.text}`), { responseCode: reply.code });
}

/** Runs an async hook and hands its outcome to a smtp-server callback; every hook goes through here. */
export function settle<T>(
  work: () => Promise<T>,
  callback: (error?: Error | null, value?: T) => void,
  onUnexpected: (error: unknown) => void,
): void {
  work().then(
    (value) => {
      callback(null, value);
    },
    (error: unknown) => {
      if (!(error instanceof SmtpError)) onUnexpected(error);
      callback(toCallbackError(error));
    },
  );
}

/**
 * settle() for a hook whose work is synchronous (connect, MAIL, RCPT): its outcome goes to the
 * callback before this returns, with no promise and no microtask in between. The callback is
 * called outside the try, so an error thrown by smtp-server after it is not taken for the hook's.
 */
export function settleNow<T>(
  work: () => T,
  callback: (error?: Error | null, value?: T) => void,
  onUnexpected: (error: unknown) => void,
): void {
  let value: T;
  try {
    value = work();
  } catch (error) {
    if (!(error instanceof SmtpError)) onUnexpected(error);
    callback(toCallbackError(error));
    return;
  }
  callback(null, value);
}

const leadingEnhancedCode = /^[245]\.\d{1,3}\.\d{1,3} /;

/** True when a reply text already carries its own enhanced status code. */
export function carriesEnhancedCode(text: string): boolean {
  return leadingEnhancedCode.test(text);
}
