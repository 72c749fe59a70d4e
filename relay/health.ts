// /metrics, /healthz, /readyz and /queuez. Ready only between start-up and drain, while the relay is
// not being retired, and while the spool has disk space: a relay that would answer 452 to everyone is
// taken out of its Service. /queuez is what the operator reads while an SmtpRelay's deletion waits
// for its pods to deliver what they hold (the phase and the number of queued messages, as JSON).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HttpConfig } from './config/types.ts';
import { isReady, type HealthState, type Phase } from './readiness.ts';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The body of /queuez: a deleting SmtpRelay's operator waits for `messages` 0 on every pod. */
export interface QueueReport {
  readonly phase: Phase;
  readonly messages: number;
}

export async function startHealthServer(
  config: HttpConfig,
  registry: Registry,
  state: HealthState,
  hasSpace: () => boolean,
  queuedMessages: () => number,
): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    } else if (path === '/queuez') {
      const report: QueueReport = { phase: state.phase, messages: queuedMessages() };
      response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(report)}\n`);
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = isReady(state, hasSpace);
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(
          ready
            ? 'ready\n'
            : `not ready: ${state.phase === 'serving' ? 'spool out of disk space' : state.phase}\n`,
        );
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address ?? '::', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
