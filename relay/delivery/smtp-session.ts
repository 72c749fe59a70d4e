// A promise-shaped SMTP client session over nodemailer's SMTPConnection. Every failure comes back
// as AttemptResult values, one per recipient, never as a thrown error.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { NodemailerError } from 'nodemailer/lib/errors';
import type { AttemptResult } from './attempt-result.ts';
import { useFastDotStuffing } from './dot-stuffing.ts';

/** verified: STARTTLS with a valid certificate or nothing; required: STARTTLS, any certificate. */
export type OutboundTls = 'verified' | 'required' | 'opportunistic' | 'none';

export interface SmtpSessionOptions {
  readonly host: string;
  readonly port: number;
  /** An already connected socket (from mx-connect); host is then only the name for TLS. */
  readonly socket?: Socket;
  readonly servername?: string;
  readonly heloName: string;
  readonly tls: OutboundTls;
  /** TLS from the first byte (SMTPS, port 465) instead of STARTTLS; `tls` then says whether it must verify. */
  readonly implicitTls?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly connectTimeoutMs: number;
  /** Aborted when the relay stops: the session ends at once, whatever phase it is in. */
  readonly signal?: AbortSignal;
}

export interface SendEnvelope {
  readonly mailFrom: string;
  readonly recipients: readonly string[];
  readonly size: number;
  readonly dsn?: {
    readonly ret?: string;
    readonly envid?: string;
    readonly notify?: string;
    readonly orcpt?: string;
  };
}

export interface SmtpSession {
  /** Whether the session runs over TLS (after STARTTLS). */
  readonly secure: boolean;
  /** False once an error left the session in an unknown state: do not reuse it. */
  readonly reusable: boolean;
  /** One result per recipient, in order. */
  /** The body as a stream from the spool, or whole when it is still in memory. */
  send(envelope: SendEnvelope, body: Readable | Buffer): Promise<AttemptResult[]>;
  close(): void;
}

export type SessionOpening =
  | { readonly ok: true; readonly session: SmtpSession }
  | { readonly ok: false; readonly result: AttemptResult };

const INTERRUPTED = 'EINTERRUPTED';
const authWithheld = 'the next hop did not establish TLS; credentials are never sent outside TLS';

function interruption(): NodemailerError {
  return Object.assign(new Error('delivery interrupted: the relay is stopping'), { code: INTERRUPTED });
}

export async function openSmtpSession(options: SmtpSessionOptions): Promise<SessionOpening> {
  const { signal } = options;
  if (signal?.aborted === true) return { ok: false, result: errorResult(interruption()) };
  const connection = new SMTPConnection({
    host: options.host,
    port: options.port,
    name: options.heloName,
    ...(options.socket === undefined ? {} : { connection: options.socket }),
    ...(options.servername === undefined ? {} : { servername: options.servername }),
    secure: options.implicitTls === true,
    connectionTimeout: options.connectTimeoutMs,
    greetingTimeout: options.connectTimeoutMs,
    socketTimeout: 10 * 60_000,
    requireTLS: options.tls === 'verified' || options.tls === 'required',
    ignoreTLS: options.tls === 'none',
    opportunisticTLS: options.tls === 'opportunistic',
    tls: { rejectUnauthorized: options.tls === 'verified', minVersion: 'TLSv1.2' },
    allowInternalNetworkInterfaces: true,
    logger: false,
  });
  useFastDotStuffing(connection);
  let reusable = true;
  // A refused connection is reported through 'error' only, not through the connect callback.
  let failedEarly: ((error: NodemailerError) => void) | undefined;
  // Ends the phase in progress (connect, login, send) when the relay stops mid-delivery: a stalled
  // next hop must not hold up the drain, and nodemailer's close() drops a pending send without
  // calling it back.
  let interruptPhase: (() => void) | undefined;
  const onAbort = (): void => {
    reusable = false;
    interruptPhase?.();
    connection.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  connection.on('error', (error: NodemailerError) => {
    reusable = false;
    failedEarly?.(error);
  });
  connection.on('end', () => {
    reusable = false;
    signal?.removeEventListener('abort', onAbort);
    failedEarly?.(
      Object.assign(new Error('connection closed before the session started'), { code: 'ECONNECTION' }),
    );
  });
  const connected = await new Promise<NodemailerError | undefined>((resolve) => {
    failedEarly = resolve;
    interruptPhase = () => {
      resolve(interruption());
    };
    connection.connect((error) => {
      resolve(error);
    });
  });
  failedEarly = undefined;
  interruptPhase = undefined;
  if (connected !== undefined) {
    connection.close();
    return { ok: false, result: errorResult(connected) };
  }
  if (options.auth !== undefined && !connection.secure) {
    // Postfix's smtp_sasl_security_options = noplaintext: whatever the TLS setting, a session that
    // did not end up encrypted (no STARTTLS offered, or stripped on the way) never carries AUTH.
    connection.close();
    return { ok: false, result: { kind: 'auth-withheld', text: authWithheld } };
  }
  if (options.auth !== undefined) {
    const auth = options.auth;
    const loginError = await new Promise<NodemailerError | null>((resolve) => {
      interruptPhase = () => {
        resolve(interruption());
      };
      connection.login({ user: auth.user, pass: auth.pass }, (error) => {
        resolve(error);
      });
    });
    interruptPhase = undefined;
    if (loginError !== null) {
      connection.close();
      return { ok: false, result: loginResult(loginError) };
    }
  }
  return {
    ok: true,
    session: {
      get secure() {
        return connection.secure;
      },
      get reusable() {
        return reusable;
      },
      send: (envelope, body) =>
        new Promise<AttemptResult[]>((resolve) => {
          if (signal?.aborted === true) {
            resolve(envelope.recipients.map(() => errorResult(interruption())));
            return;
          }
          interruptPhase = () => {
            resolve(envelope.recipients.map(() => errorResult(interruption())));
          };
          connection.send(
            {
              from: envelope.mailFrom,
              to: [...envelope.recipients],
              size: envelope.size,
              ...(envelope.dsn === undefined ? {} : { dsn: { ...envelope.dsn } }),
            },
            body,
            (error, info) => {
              interruptPhase = undefined;
              if (error) {
                reusable = false;
                resolve(envelope.recipients.map((address) => recipientError(error, address)));
                return;
              }
              const accepted: AttemptResult = replyResult(info.response);
              const rejected = new Map(
                (info.rejectedErrors ?? []).map((failure) => [failure.recipient, failure]),
              );
              resolve(
                envelope.recipients.map((address) => {
                  const failure = rejected.get(address);
                  return failure === undefined ? accepted : errorResult(failure);
                }),
              );
            },
          );
        }),
      close: () => {
        if (reusable) connection.quit();
        else connection.close();
        reusable = false;
      },
    },
  };
}

function recipientError(error: NodemailerError, address: string): AttemptResult {
  const own = error.rejectedErrors?.find((failure) => failure.recipient === address);
  return errorResult(own ?? error);
}

/** A 5xx to AUTH (nodemailer's EAUTH) is a refusal of our credentials; anything else as usual. */
function loginResult(error: NodemailerError): AttemptResult {
  const result = errorResult(error);
  if (result.kind !== 'reply' || result.code < 500) return result;
  return { kind: 'auth-refused', code: result.code, text: result.text };
}

function errorResult(error: NodemailerError): AttemptResult {
  const text = error.message.replace(/[\r\n]+/g, ' ');
  if (error.code === INTERRUPTED) return { kind: 'interrupted', text };
  // A refused STARTTLS is a TLS failure (defer), even though the server replied 5xx to it.
  const tlsFailed = error.code === 'ETLS' || error.code === 'EREQUIRETLS' || error.command === 'STARTTLS';
  if (tlsFailed) return { kind: 'tls', text: error.response ?? text };
  if (error.responseCode !== undefined && error.response !== undefined) return replyResult(error.response);
  if (/certificate|TLS|SSL/i.test(text)) return { kind: 'tls', text };
  return { kind: 'network', text };
}

function replyResult(response: string): AttemptResult {
  const match = /^(\d{3})[ -]?([\s\S]*)$/.exec(response.trim());
  if (match?.[1] === undefined)
    return { kind: 'network', text: `unparsable reply: ${response.slice(0, 200)}` };
  return { kind: 'reply', code: Number(match[1]), text: (match[2] ?? '').replace(/\s+/g, ' ').trim() };
}
