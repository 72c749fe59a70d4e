// `mailfleet-relay queue <command>`: the queue admin client. It talks to the running relay's admin
// endpoint on 127.0.0.1 (see server.ts), so it works from `kubectl exec` inside the pod, with the
// token the relay wrote at start (token.ts).
export interface QueueCommandIo {
  /** Base URL of the admin endpoint, e.g. http://127.0.0.1:8026 */
  readonly adminUrl: string;
  /** The bearer token from the relay's token file. */
  readonly token: string;
  readonly fetch: typeof globalThis.fetch;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

import { isQuarantineName } from '../queue/quarantine.ts';
import { adminTokenPath, defaultAdminTokenDir } from './token.ts';

export const queueUsage = `usage: mailfleet-relay queue [--admin-url URL] [--admin-token-dir DIR] <command>
  list [--sender S] [--recipient R] [--status pending|deferred] [--older-than SECONDS]
  show QUEUE_ID
  retry QUEUE_ID | retry --all
  delete QUEUE_ID
  drain [--deadline SECONDS]      deliver until the deadline, then hand the rest to peer relays
  quarantine list                 spool files this relay could not read, moved to <queue.dir>/quarantine
  quarantine restore NAME         move one back (NAME as listed); it is read at the relay's next start`;

export interface QueueEndpoint {
  readonly adminUrl: string;
  /** The file the relay wrote the token to: `<dir>/mailfleet-admin-<port of adminUrl>.token`. */
  readonly tokenFile: string;
  /** The command and its arguments, after the endpoint options. */
  readonly argv: readonly string[];
}

/** Reads the leading `--admin-url URL` and `--admin-token-dir DIR` options; pure. */
export function queueEndpoint(argv: readonly string[]): QueueEndpoint | { readonly problem: string } {
  let adminUrl = 'http://127.0.0.1:8026';
  let tokenDir = defaultAdminTokenDir;
  let rest = argv;
  while (rest[0] === '--admin-url' || rest[0] === '--admin-token-dir') {
    const [flag, value] = rest;
    if (value === undefined) return { problem: `${flag} needs a value` };
    if (flag === '--admin-url') adminUrl = value;
    else tokenDir = value;
    rest = rest.slice(2);
  }
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    return { problem: `--admin-url ${JSON.stringify(adminUrl)} is not a URL (e.g. http://127.0.0.1:8026)` };
  }
  const port = Number(url.port === '' ? '80' : url.port);
  return { adminUrl, tokenFile: adminTokenPath(tokenDir, port), argv: rest };
}

type Request = { readonly method: string; readonly path: string } | { readonly problem: string };

/** Parses argv (after `queue`) into the admin request; pure. */
export function queueRequest(argv: readonly string[]): Request {
  const [command, ...rest] = argv;
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let index = 0; index < rest.length; index += 1) {
    const arg = rest[index] ?? '';
    if (arg === '--all') flags.set('all', 'true');
    else if (arg.startsWith('--')) {
      const value = rest[index + 1];
      if (value === undefined) return { problem: `${arg} needs a value` };
      flags.set(arg.slice(2), value);
      index += 1;
    } else positional.push(arg);
  }
  const id = positional[0];
  const needId = (method: string, suffix: string): Request =>
    id === undefined
      ? { problem: `${command ?? ''} needs a queue id` }
      : { method, path: `/queue/${encodeURIComponent(id)}${suffix}` };
  switch (command) {
    case 'list': {
      const query = new URLSearchParams();
      const names: readonly [string, string][] = [
        ['sender', 'sender'],
        ['recipient', 'recipient'],
        ['status', 'status'],
        ['older-than', 'olderThanSeconds'],
      ];
      for (const [flag, param] of names) {
        const value = flags.get(flag);
        if (value !== undefined) query.set(param, value);
      }
      const text = query.toString();
      return { method: 'GET', path: text === '' ? '/queue' : `/queue?${text}` };
    }
    case 'show':
      return needId('GET', '');
    case 'delete':
      return needId('DELETE', '');
    case 'retry':
      return flags.has('all') ? { method: 'POST', path: '/queue/retry' } : needId('POST', '/retry');
    case 'quarantine':
      return quarantineRequest(positional);
    case 'drain':
      return {
        method: 'POST',
        path: `/drain?deadlineSeconds=${encodeURIComponent(flags.get('deadline') ?? '30')}`,
      };
    default:
      return {
        problem:
          command === undefined ? 'a command is required' : `unknown command ${JSON.stringify(command)}`,
      };
  }
}

function quarantineRequest(positional: readonly string[]): Request {
  const [verb, name] = positional;
  if (verb === 'list') return { method: 'GET', path: '/queue/quarantine' };
  if (verb !== 'restore') return { problem: 'quarantine needs list or restore NAME' };
  if (name === undefined) return { problem: 'quarantine restore needs a name from quarantine list' };
  // Checked here too: URL resolution would fold a `..` away before the endpoint could refuse it.
  if (!isQuarantineName(name)) {
    return {
      problem: `${JSON.stringify(name)} is not a quarantined file name (<reason>/<file>, as quarantine list shows)`,
    };
  }
  return { method: 'POST', path: `/queue/quarantine/${name}/restore` };
}

/** Runs one queue command; resolves with the process exit code. */
export async function runQueueCommand(argv: readonly string[], io: QueueCommandIo): Promise<number> {
  const request = queueRequest(argv);
  if ('problem' in request) {
    io.err(`${request.problem}\n${queueUsage}\n`);
    return 2;
  }
  let response: Response;
  try {
    response = await io.fetch(new URL(request.path, io.adminUrl), {
      method: request.method,
      headers: { authorization: `Bearer ${io.token}` },
    });
  } catch (error) {
    io.err(`cannot reach the relay's queue admin endpoint at ${io.adminUrl}: ${String(error)}\n`);
    return 1;
  }
  const body = await response.text();
  if (response.ok) io.out(body);
  else io.err(body);
  return response.ok ? 0 : 1;
}
