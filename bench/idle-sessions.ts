// Memory a relay needs for many concurrent idle sessions: open them (banner read, EHLO answered),
// measure the relay tree's memory, close them.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { treeMemory } from './process-tree.ts';

export interface IdleSessionsFigures {
  readonly sessions: number;
  readonly opened: number;
  readonly rssBeforeBytes: number;
  readonly rssWithSessionsBytes: number;
  readonly pssBeforeBytes: number;
  readonly pssWithSessionsBytes: number;
  readonly processesWithSessions: number;
}

function openIdleSession(port: number): Promise<Socket> {
  return new Promise((opened, failed) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let greeted = false;
    socket.setEncoding('latin1');
    socket.setTimeout(15_000, () => {
      socket.destroy(new Error('no EHLO reply within 15 s'));
    });
    socket.on('error', failed);
    socket.on('close', () => {
      failed(new Error('closed before the EHLO reply'));
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      // The session is established once the banner came and the EHLO reply is complete.
      if (!greeted && /^220 .*\r\n/m.test(received)) {
        greeted = true;
        received = '';
        socket.write('EHLO idle.bench.example\r\n');
      } else if (greeted && /^250 .*\r\n/m.test(received)) {
        socket.setTimeout(0);
        socket.removeAllListeners('close');
        socket.removeListener('error', failed);
        socket.on('error', () => undefined);
        opened(socket);
      }
    });
  });
}

export async function measureIdleSessions(
  port: number,
  rootPid: number,
  sessions: number,
): Promise<IdleSessionsFigures> {
  const before = await treeMemory(rootPid);
  const sockets: Socket[] = [];
  try {
    const batch = 50;
    for (let start = 0; start < sessions; start += batch) {
      const count = Math.min(batch, sessions - start);
      const settled = await Promise.allSettled(Array.from({ length: count }, () => openIdleSession(port)));
      for (const outcome of settled) if (outcome.status === 'fulfilled') sockets.push(outcome.value);
    }
    await new Promise((settle) => setTimeout(settle, 1000));
    const withSessions = await treeMemory(rootPid);
    return {
      sessions,
      opened: sockets.length,
      rssBeforeBytes: before.rssBytes,
      rssWithSessionsBytes: withSessions.rssBytes,
      pssBeforeBytes: before.pssBytes,
      pssWithSessionsBytes: withSessions.pssBytes,
      processesWithSessions: withSessions.processes,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}
