// What clients do to a connection is not an internal error of the relay: a client that hangs up
// in the middle of DATA, or whose TLS handshake fails (wrong version, a plaintext command on the
// TLS port, a certificate it refused), is logged once, at info or warn, under a precise event name
// and without a stack. smtp-server reports one failed STARTTLS handshake twice (the TLS socket's
// `_tlsError` and `error` both carry the same error object), so each error is logged only once.
import type { RelayLogger } from '../log.ts';

interface SocketError extends Error {
  readonly code?: unknown;
  /** OpenSSL's short reason, e.g. "wrong version number". */
  readonly reason?: unknown;
  readonly remoteAddress?: unknown;
  /** Set by smtp-server on errors of a TLS handshake (stage "connect"). */
  readonly meta?: { readonly stage?: unknown; readonly remoteAddress?: unknown };
}

/** The client closed the connection or reset it; smtp-server's ECONNECTION is a close mid-DATA. */
const clientGoneCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNECTION', 'ECONNABORTED']);

export type ClientErrorKind = 'tls_handshake_failed' | 'client_disconnected';

export function clientErrorKind(error: unknown): ClientErrorKind | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, meta } = error as SocketError;
  if (typeof code === 'string' && clientGoneCodes.has(code)) return 'client_disconnected';
  const tlsCode = typeof code === 'string' && /^ERR_(SSL|TLS)_/.test(code);
  if (tlsCode || meta?.stage === 'connect') return 'tls_handshake_failed';
  return undefined;
}

/** A short, single-line description: OpenSSL's reason when there is one, never a stack. */
function reasonOf(error: SocketError): string {
  const text = typeof error.reason === 'string' ? error.reason : (error.message.split('\n')[0] ?? '');
  return text.slice(0, 200);
}

function clientOf(error: SocketError): string | undefined {
  const address = error.remoteAddress ?? error.meta?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

/** Logs an error a listener's connection reported, once per error object. */
export type ConnectionErrorLog = (error: Error) => void;

export function connectionErrorLog(logger: RelayLogger, listener: string): ConnectionErrorLog {
  const logged = new WeakSet<Error>();
  return (error) => {
    if (logged.has(error)) return;
    logged.add(error);
    const kind = clientErrorKind(error);
    const fields = {
      listener,
      client: clientOf(error),
      code: typeof (error as SocketError).code === 'string' ? (error as SocketError).code : undefined,
      reason: reasonOf(error),
    };
    if (kind === 'tls_handshake_failed') logger.warn({ event: kind, ...fields }, 'TLS handshake failed');
    // A hang-up mid-DATA is logged by the session (logDataInterrupted) with its queue id; one
    // anywhere else loses nothing, so neither needs a second line at info.
    else if (kind === 'client_disconnected') logger.debug({ event: kind, ...fields }, 'client disconnected');
    else logger.warn({ event: 'smtp_error', ...fields }, 'SMTP connection error');
  };
}

/** The log line for a message whose client hung up before the final dot: nothing was queued. */
export function logDataInterrupted(
  logger: RelayLogger,
  facts: { readonly session: string; readonly client: string; readonly queueId: string },
): void {
  logger.info({ event: 'client_disconnected_in_data', ...facts }, 'client closed the connection during DATA');
}
