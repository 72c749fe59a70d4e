// The queue admin endpoint's routes, pure: method + URL → what to do, or why not.
import { isQuarantineName } from '../queue/quarantine.ts';
import { isQueueId } from '../queue/queue-id.ts';
import type { QueueListFilter } from '../queue/spool.ts';

export type AdminRoute =
  | { readonly action: 'list'; readonly filter: QueueListFilter }
  | { readonly action: 'show' | 'retry' | 'delete'; readonly queueId: string }
  | { readonly action: 'retry-all' }
  | { readonly action: 'drain'; readonly deadlineSeconds: number }
  | { readonly action: 'quarantine-list' }
  | { readonly action: 'quarantine-restore'; readonly name: string }
  | { readonly action: 'error'; readonly status: 400 | 404 | 405; readonly message: string };

export function routeAdminRequest(method: string, url: string): AdminRoute {
  const parsed = new URL(url, 'http://127.0.0.1');
  const parts = parsed.pathname.split('/').filter((part) => part !== '');
  if (parts[0] !== 'queue' && parts[0] !== 'drain')
    return { action: 'error', status: 404, message: `no route ${parsed.pathname}` };
  if (parts[0] === 'drain') {
    if (method !== 'POST') return { action: 'error', status: 405, message: 'drain needs POST' };
    const deadline = Number(parsed.searchParams.get('deadlineSeconds') ?? '30');
    if (!Number.isFinite(deadline) || deadline < 0) {
      return {
        action: 'error',
        status: 400,
        message: `deadlineSeconds must be a number >= 0, got ${String(parsed.searchParams.get('deadlineSeconds'))}`,
      };
    }
    return { action: 'drain', deadlineSeconds: deadline };
  }
  const [, id, verb] = parts;
  if (id === 'quarantine') return quarantineRoute(method, parts.slice(2));
  if (id === undefined) {
    if (method !== 'GET') return { action: 'error', status: 405, message: 'the queue list needs GET' };
    return listRoute(parsed.searchParams);
  }
  if (id === 'retry' && verb === undefined) {
    return method === 'POST'
      ? { action: 'retry-all' }
      : { action: 'error', status: 405, message: 'retry needs POST' };
  }
  if (!isQueueId(id))
    return { action: 'error', status: 400, message: `${JSON.stringify(id)} is not a queue id` };
  if (verb === undefined && method === 'GET') return { action: 'show', queueId: id };
  if (verb === undefined && method === 'DELETE') return { action: 'delete', queueId: id };
  if (verb === 'retry' && method === 'POST') return { action: 'retry', queueId: id };
  return { action: 'error', status: 405, message: `${method} ${parsed.pathname} is not supported` };
}

/** GET /queue/quarantine, POST /queue/quarantine/<reason>/<file>/restore */
function quarantineRoute(method: string, parts: readonly string[]): AdminRoute {
  if (parts.length === 0) {
    return method === 'GET'
      ? { action: 'quarantine-list' }
      : { action: 'error', status: 405, message: 'the quarantine list needs GET' };
  }
  const [reason, file, verb, ...extra] = parts.map((part) => decodeURIComponent(part));
  const name = `${reason ?? ''}/${file ?? ''}`;
  if (verb !== 'restore' || extra.length > 0)
    return { action: 'error', status: 404, message: `no route /queue/quarantine/${parts.join('/')}` };
  if (method !== 'POST') return { action: 'error', status: 405, message: 'restore needs POST' };
  if (!isQuarantineName(name)) {
    return {
      action: 'error',
      status: 400,
      message: `${JSON.stringify(name)} is not a quarantined file name (<reason>/<file>, as queue quarantine list shows)`,
    };
  }
  return { action: 'quarantine-restore', name };
}

function listRoute(params: URLSearchParams): AdminRoute {
  const status = params.get('status');
  if (status !== null && status !== 'pending' && status !== 'deferred') {
    return {
      action: 'error',
      status: 400,
      message: `status must be pending or deferred, got ${JSON.stringify(status)}`,
    };
  }
  const olderThan = params.get('olderThanSeconds');
  const olderThanSeconds = olderThan === null ? undefined : Number(olderThan);
  if (olderThanSeconds !== undefined && !(olderThanSeconds >= 0)) {
    return {
      action: 'error',
      status: 400,
      message: `olderThanSeconds must be a number >= 0, got ${JSON.stringify(olderThan)}`,
    };
  }
  const sender = params.get('sender');
  const recipient = params.get('recipient');
  return {
    action: 'list',
    filter: {
      ...(sender === null ? {} : { sender }),
      ...(recipient === null ? {} : { recipient }),
      ...(status === null ? {} : { status }),
      ...(olderThanSeconds === undefined ? {} : { olderThanMs: olderThanSeconds * 1000 }),
    },
  };
}
