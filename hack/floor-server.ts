// What receiving costs without the relay (`make profile PROFILE_FLOOR=...`, docs/performance.md):
//   raw          a hand-written SMTP responder on node:net: one reply per command, the body skipped
//                up to the final dot, nothing stored. What Node's sockets cost by themselves.
//   smtp-server  smtp-server with the relay's own connection class (its parser, no greeting pause)
//                and hooks that accept everything; the body is read and dropped.
// Usage: node hack/floor-server.ts <raw|smtp-server> <port>. Listens on 127.0.0.1 until SIGINT/SIGTERM.
import { createServer, type Server, type Socket } from 'node:net';
import { RelaySmtpServer } from '../relay/smtp/connection.ts';

const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
if ((mode !== 'raw' && mode !== 'smtp-server') || !Number.isInteger(port)) {
  process.stderr.write('usage: node hack/floor-server.ts <raw|smtp-server> <port>\n');
  process.exit(2);
}

const ehloReply = '250-floor.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n';

function rawSession(socket: Socket): void {
  socket.setNoDelay(true);
  socket.write('220 floor.example ESMTP\r\n');
  let inData = false;
  let pending = '';
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (;;) {
      if (inData) {
        const end = pending.indexOf('\r\n.\r\n');
        if (end < 0) {
          pending = pending.slice(-4);
          return;
        }
        pending = pending.slice(end + 5);
        inData = false;
        socket.write('250 2.0.0 Ok: queued\r\n');
        continue;
      }
      const lineEnd = pending.indexOf('\r\n');
      if (lineEnd < 0) return;
      const verb = pending.slice(0, 4).toUpperCase();
      pending = pending.slice(lineEnd + 2);
      if (verb === 'EHLO') socket.write(ehloReply);
      else if (verb === 'DATA') {
        inData = true;
        // The CRLF before the final dot may be the CRLF that ended the DATA line.
        pending = `\r\n${pending}`;
        socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
      } else if (verb === 'QUIT') {
        socket.end('221 2.0.0 Bye\r\n');
        return;
      } else socket.write('250 2.0.0 Ok\r\n');
    }
  });
}

function smtpServer(): Server {
  const server = new RelaySmtpServer(
    {
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          callback(null, 'Ok: queued');
        });
      },
    },
    {
      admit: () => ({ admitted: true }),
      release: () => undefined,
      greetingDelayMs: () => 0,
      sessionTimeoutMs: 60_000,
      retiring: () => false,
      onConnectionLimit: () => undefined,
      onEarlyBody: () => undefined,
      onRefusal: () => undefined,
    },
  );
  return server.server;
}

const server = mode === 'raw' ? createServer(rawSession) : smtpServer();
server.listen(port, '127.0.0.1');
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
