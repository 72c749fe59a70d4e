// A Prometheus-like scrape of the operator's HTTPS metrics endpoint (case 38): GET /metrics with an
// optional bearer token, the generated self-signed certificate not verified (as the chart's
// ServiceMonitor does by default). Returns the HTTP status.
import { request } from 'node:https';

export function scrapeStatus(port: number, token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        rejectUnauthorized: false,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
      },
    )
      .on('error', reject)
      .end();
  });
}
