// A man in the middle for SMTP: forwards a TCP connection to a real next hop and records every line
// the client sent, so a test can show what reached the wire. With `strip`, it rewrites the server's
// STARTTLS capability to an unknown keyword, as hostile networks and broken middleboxes do.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SmtpProxy {
  readonly port: number;
  /** Every line the client sent, in order, across connections. */
  clientLines(): readonly string[];
  close(): Promise<void>;
}

export async function startSmtpProxy(target: {
  host: string;
  port: number;
  strip: boolean;
}): Promise<SmtpProxy> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let fromClient = '';
    client.on('data', (chunk: Buffer) => {
      fromClient += chunk.toString('latin1');
      const complete = fromClient.split('\r\n');
      fromClient = complete.pop() ?? '';
      lines.push(...complete);
      upstream.write(chunk);
    });
    let fromServer = '';
    upstream.on('data', (chunk: Buffer) => {
      if (!target.strip) {
        client.write(chunk);
        return;
      }
      fromServer += chunk.toString('latin1');
      const end = fromServer.lastIndexOf('\r\n') + 2;
      const complete = fromServer.slice(0, end);
      fromServer = fromServer.slice(end);
      client.write(Buffer.from(complete.replace(/^(250[- ])STARTTLS\r$/gim, '$1XXXXXXXA\r'), 'latin1'));
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    port: (server.address() as AddressInfo).port,
    clientLines: () => lines,
    close: () =>
      new Promise<void>((closed) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          closed();
        });
      }),
  };
}
