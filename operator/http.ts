// The operator's HTTP endpoint: /healthz (the process serves), /readyz (the caches are synced) for
// the kubelet's probes, and /metrics (Prometheus) unless the metrics are served over HTTPS with
// authentication instead (metrics-endpoint.ts).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.ts';
import type { Log } from './log.ts';

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export interface HttpEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** Serves /metrics in plain HTTP; undefined when metrics are served elsewhere. */
  readonly registry: Registry | undefined;
  readonly ready: () => boolean;
  readonly log: Log;
}

export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://operator').pathname;
    const reply = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { 'content-type': contentType }).end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(405, 'text/plain', 'method not allowed\n');
    } else if (path === '/healthz') {
      reply(200, 'text/plain', 'ok\n');
    } else if (path === '/readyz') {
      if (options.ready()) reply(200, 'text/plain', 'ok\n');
      else reply(503, 'text/plain', 'caches not synced\n');
    } else if (path === '/metrics' && options.registry !== undefined) {
      const registry = options.registry;
      registry.metrics().then(
        (text) => {
          reply(200, registry.contentType, text);
        },
        (error: unknown) => {
          options.log.error({ err: error }, 'collecting metrics failed');
          reply(500, 'text/plain', 'collecting metrics failed\n');
        },
      );
    } else {
      reply(404, 'text/plain', 'not found\n');
    }
  });
  return listen(server, options.port, options.host);
}
