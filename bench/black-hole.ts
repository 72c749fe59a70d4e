// A next hop that accepts TCP connections and never says a word: deliveries to it stall.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';

export interface BlackHole {
  readonly port: number;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(0, '127.0.0.1', listening);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address bound');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((closed) =>
        server.close(() => {
          closed();
        }),
      );
    },
  };
}
