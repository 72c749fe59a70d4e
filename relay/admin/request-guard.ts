// Who may use the queue admin endpoint (case 35), pure: a request from a browser (it carries an
// Origin header) or addressed to a name other than the loopback address (DNS rebinding) is refused
// with 403, one without the token with 401, before any route runs.
import { bearerMatches } from './token.ts';

export interface AdminRequestHeaders {
  readonly origin?: string | undefined;
  readonly host?: string | undefined;
  readonly authorization?: string | undefined;
}

export type AdminRefusal = { readonly status: 401 | 403; readonly message: string } | undefined;

export function refuseAdminRequest(headers: AdminRequestHeaders, port: number, token: string): AdminRefusal {
  if (headers.origin !== undefined) {
    return {
      status: 403,
      message: `requests with an Origin header (${JSON.stringify(headers.origin.slice(0, 100))}) are refused: the queue admin endpoint is not for browsers; use mailfleet-relay queue ...`,
    };
  }
  const allowedHosts = [`127.0.0.1:${String(port)}`, `localhost:${String(port)}`];
  if (headers.host === undefined || !allowedHosts.includes(headers.host.toLowerCase())) {
    return {
      status: 403,
      message: `Host ${JSON.stringify((headers.host ?? '').slice(0, 100))} is refused: the queue admin endpoint answers only to ${allowedHosts.join(' or ')}`,
    };
  }
  if (!bearerMatches(headers.authorization, token)) {
    return {
      status: 401,
      message:
        'the queue admin endpoint needs the token the relay wrote at start (queue.adminTokenDir, mailfleet-admin-<port>.token) as Authorization: Bearer <token>; mailfleet-relay queue ... sends it',
    };
  }
  return undefined;
}
