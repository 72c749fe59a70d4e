// The queue admin HTTP endpoint, bound to 127.0.0.1 only: `mailfleet-relay queue ...` run inside the
// pod (kubectl exec) talks to it. Going through the running relay, not the spool files, is what
// keeps admin actions consistent with the in-memory index and with deliveries in flight. Every
// request needs the token file's bearer token and must not come from a browser (request-guard.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HandoffReport } from '../delivery/handoff.ts';
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import { refuseAdminRequest } from './request-guard.ts';
import { routeAdminRequest, type AdminRoute } from './routes.ts';
import { adminTokenPath, newAdminToken, removeAdminToken, writeAdminToken } from './token.ts';
import type { Clock } from '../clock.ts';

export interface QueueAdminOptions {
  readonly spool: Spool;
  readonly drain: (deadline: number) => Promise<HandoffReport>;
  readonly now: Clock;
  readonly port: number;
  /** Where the token file is written (queue.adminTokenDir). */
  readonly tokenDir: string;
  readonly logger: Logger;
}

export interface QueueAdmin {
  readonly port: number;
  /** The file holding the bearer token, mode 0600; removed by close(). */
  readonly tokenFile: string;
  close(): Promise<void>;
}

type Reply = readonly [status: number, body: unknown];

export async function startQueueAdmin(options: QueueAdminOptions): Promise<QueueAdmin> {
  const token = newAdminToken();
  let port = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    const refusal = refuseAdminRequest(request.headers, port, token);
    if (refusal !== undefined) {
      options.logger.warn(
        { event: 'queue-admin-refused', status: refusal.status, method: request.method },
        'queue admin request refused',
      );
      response.writeHead(refusal.status, {
        'content-type': 'application/json',
        ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
      });
      response.end(`${JSON.stringify({ error: refusal.message })}\n`);
      return;
    }
    const route = routeAdminRequest(request.method ?? 'GET', request.url ?? '/');
    handle(options, route).then(
      ([status, body]) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(`${JSON.stringify(body)}\n`);
      },
      (error: unknown) => {
        options.logger.error({ event: 'queue-admin-error', err: error }, 'queue admin request failed');
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(`${JSON.stringify({ error: String(error) })}\n`);
      },
    );
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port, '127.0.0.1', listening);
  });
  port = (server.address() as AddressInfo).port;
  const tokenFile = adminTokenPath(options.tokenDir, port);
  const closeServer = (): Promise<void> =>
    new Promise<void>((closed) => {
      server.close(() => {
        closed();
      });
      server.closeAllConnections();
    });
  try {
    await writeAdminToken(tokenFile, token);
  } catch (error) {
    await closeServer();
    throw new Error(
      `queue.adminTokenDir: cannot write the queue admin token file ${tokenFile}: ${String(error)}`,
      { cause: error },
    );
  }
  return {
    port,
    tokenFile,
    close: async () => {
      await closeServer();
      await removeAdminToken(tokenFile);
    },
  };
}

async function handle(options: QueueAdminOptions, route: AdminRoute): Promise<Reply> {
  const { spool, logger } = options;
  switch (route.action) {
    case 'error':
      return [route.status, { error: route.message }];
    case 'list':
      return [200, { messages: spool.list(route.filter).map((message) => summary(message, options.now())) }];
    case 'show': {
      const message = spool.show(route.queueId);
      return message === undefined
        ? [404, { error: `queue id ${route.queueId} is not in the queue` }]
        : [200, message];
    }
    case 'retry':
    case 'retry-all': {
      const queueId = route.action === 'retry' ? route.queueId : undefined;
      const count = spool.retryNow(queueId);
      logger.info({ event: 'admin-retry', queueId, count }, 'retry requested');
      return queueId !== undefined && count === 0
        ? [404, { error: `queue id ${queueId} is not in the queue` }]
        : [200, { retried: count }];
    }
    case 'delete': {
      const removed = await spool.remove(route.queueId);
      logger.warn(
        { event: 'admin-delete', queueId: route.queueId, removed },
        'message deleted by an operator',
      );
      return removed
        ? [200, { deleted: route.queueId }]
        : [404, { error: `queue id ${route.queueId} is not in the queue` }];
    }
    case 'quarantine-list':
      return [200, { files: await spool.quarantine.list() }];
    case 'quarantine-restore': {
      const restored = await spool.quarantine.restore(route.name);
      logger.warn(
        { event: 'admin-quarantine-restore', name: route.name, ...restored },
        'quarantined file restored',
      );
      // The running relay does not rescan: the restored file is read at the next start.
      return restored.ok
        ? [200, { restored: route.name, to: restored.restoredTo, queuedAt: 'next start of the relay' }]
        : [restored.status, { error: restored.message }];
    }
    case 'drain':
      logger.warn({ event: 'admin-drain', deadlineSeconds: route.deadlineSeconds }, 'drain requested');
      return [200, await options.drain(options.now() + route.deadlineSeconds * 1000)];
  }
}

function summary(message: QueuedMessage, now: number) {
  const open = message.recipients.filter(
    (state) => state.status === 'pending' || state.status === 'deferred',
  );
  return {
    queueId: message.queueId,
    mailFrom: message.envelope.mailFrom,
    size: message.size,
    ageSeconds: Math.round((now - message.envelope.receivedAt) / 1000),
    recipients: open.map((state) => ({
      address: state.recipient.address,
      status: state.status,
      attempts: state.attempts,
      nextAttemptAt: new Date(state.nextAttemptAt).toISOString(),
      ...(state.lastReply === undefined ? {} : { lastReply: state.lastReply }),
    })),
  };
}
