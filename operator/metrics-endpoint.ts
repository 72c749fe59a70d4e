// The operator's HTTPS metrics endpoint (case 38): /metrics only, over TLS 1.2+, for callers the API
// server authenticates and authorizes (metrics-auth.ts; its answers remembered briefly,
// metrics-access-cache.ts). The health probes stay on the plain HTTP endpoint (http.ts), which then
// serves no metrics.
import { createServer, type Server } from 'node:https';
import type { Registry } from 'prom-client';
import type { KubeClient } from './kube/client.ts';
import type { Clock } from './kube/clock.ts';
import { listen } from './listen.ts';
import type { Log } from './log.ts';
import { MetricsAccessCache } from './metrics-access-cache.ts';
import { metricsAccess } from './metrics-auth.ts';

export interface SecureMetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export interface SecureMetricsOptions {
  readonly host: string;
  readonly port: number;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly registry: Registry;
  readonly client: Pick<KubeClient, 'request'>;
  readonly clock: Clock;
  readonly log: Log;
}

export const metricsPath = '/metrics';

export async function startSecureMetricsEndpoint(
  options: SecureMetricsOptions,
): Promise<SecureMetricsEndpoint> {
  const reviews = new MetricsAccessCache({
    clock: options.clock,
    review: (authorization, path) => metricsAccess(options.client, authorization, path),
  });
  const server: Server = createServer(
    { cert: options.certificatePem, key: options.privateKeyPem, minVersion: 'TLSv1.2' },
    (request, response) => {
      const reply = (status: number, body: string, contentType = 'text/plain') => {
        response.writeHead(status, { 'content-type': contentType }).end(body);
      };
      const path = new URL(request.url ?? '/', 'https://operator').pathname;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        reply(405, 'method not allowed\n');
        return;
      }
      if (path !== metricsPath) {
        reply(404, 'not found\n');
        return;
      }
      reviews
        .access(request.headers.authorization, path)
        .then(async (access) => {
          if (!access.allowed) {
            if (access.status === 401) response.setHeader('www-authenticate', 'Bearer');
            reply(
              access.status,
              `${access.status === 401 ? 'unauthorized' : 'forbidden'}: ${access.reason}\n`,
            );
            return;
          }
          reply(200, await options.registry.metrics(), options.registry.contentType);
        })
        .catch((error: unknown) => {
          options.log.error({ err: error }, 'serving metrics failed');
          reply(500, 'serving metrics failed\n');
        });
    },
  );
  return listen(server, options.port, options.host);
}
