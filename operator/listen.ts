// Listening and closing for the operator's HTTP and HTTPS endpoints: resolves once bound (rejects
// on an error such as a port in use), and close() ends open keep-alive connections too.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ListeningServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(
  server: HttpServer | HttpsServer,
  port: number,
  host?: string,
): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
