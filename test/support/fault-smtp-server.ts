// A next hop that misbehaves on purpose: a small SMTP server (node:net, its own state machine) that,
// while faults are switched on, answers 421 or 451 at random, drops the connection in the middle of
// DATA, stalls (never sends its banner) or, offering STARTTLS, breaks the TLS handshake. Every
// choice comes from a seeded PRNG. A message counts as received only when it was answered 250 after
// the final dot, so "exactly once" can be checked against received().
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { SeededRandom } from './seeded-random.ts';

export const faultKinds = ['reply-421', 'reply-451', 'drop-mid-data', 'stall', 'tls-handshake'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultServerOptions {
  readonly random: SeededRandom;
  /** Chance that any one step (banner, command, end of data, handshake) misbehaves while faults are on. */
  readonly faultRate: number;
  /** The faults that may be chosen; all but tls-handshake when absent. */
  readonly kinds?: readonly FaultKind[];
  /** Offer STARTTLS with this certificate. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Recipients answered 451 at RCPT whatever the fault switch says (a hop that never takes them). */
  readonly alwaysDefer?: readonly string[];
  /** Recipients answered 550 at RCPT, always (a hop that knows they do not exist). */
  readonly alwaysReject?: readonly string[];
}

export interface ReceivedMessage {
  readonly mailFrom: string;
  readonly recipients: readonly string[];
  /** The message as sent, dot-unstuffed, without the final dot. */
  readonly data: string;
  /** Whether the transaction ran over TLS. */
  readonly secure: boolean;
}

export interface FaultSmtpServer {
  readonly port: number;
  setFaults(on: boolean): void;
  received(): readonly ReceivedMessage[];
  /** Faults injected so far, by kind. */
  injected(): Readonly<Record<FaultKind, number>>;
  /** MAIL commands received over a connection without TLS. */
  plaintextMailCommands(): number;
  close(): Promise<void>;
}

export async function startFaultSmtpServer(options: FaultServerOptions): Promise<FaultSmtpServer> {
  const { random } = options;
  const kinds = options.kinds ?? faultKinds.filter((kind) => kind !== 'tls-handshake');
  const secureContext = options.tls ? createSecureContext({ ...options.tls }) : undefined;
  const alwaysDefer = new Set((options.alwaysDefer ?? []).map((address) => address.toLowerCase()));
  const alwaysReject = new Set((options.alwaysReject ?? []).map((address) => address.toLowerCase()));
  const received: ReceivedMessage[] = [];
  const injected = Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  const sockets = new Set<Socket>();
  let faults = false;
  let plaintextMail = 0;

  /** The fault to inject at this step, if any, among those that make sense there. */
  const fault = (possible: readonly FaultKind[]): FaultKind | undefined => {
    const allowed = possible.filter((kind) => kinds.includes(kind));
    if (!faults || allowed.length === 0 || !random.chance(options.faultRate)) return undefined;
    const kind = random.pick(allowed);
    injected[kind] += 1;
    return kind;
  };

  const server: Server = createServer((socket) => {
    serve(socket, {
      fault,
      secureContext,
      alwaysDefer,
      alwaysReject,
      onMessage: (message) => received.push(message),
      onPlaintextMail: () => (plaintextMail += 1),
      track: (tracked) => {
        sockets.add(tracked);
        tracked.once('close', () => sockets.delete(tracked));
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address bound');
  return {
    port: address.port,
    setFaults: (on) => {
      faults = on;
    },
    received: () => received,
    injected: () => ({ ...injected }),
    plaintextMailCommands: () => plaintextMail,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

interface Connection {
  readonly fault: (possible: readonly FaultKind[]) => FaultKind | undefined;
  readonly secureContext: SecureContext | undefined;
  readonly alwaysDefer: ReadonlySet<string>;
  readonly alwaysReject: ReadonlySet<string>;
  readonly onMessage: (message: ReceivedMessage) => void;
  readonly onPlaintextMail: () => void;
  readonly track: (socket: Socket) => void;
}

const replyFor: Partial<Record<FaultKind, string>> = {
  'reply-421': '421 4.3.2 fault injected: closing',
  'reply-451': '451 4.3.0 fault injected: try again later',
};

function serve(plain: Socket, connection: Connection): void {
  let socket: Socket = plain;
  let secure = false;
  let buffer = Buffer.alloc(0);
  let inData = false;
  let dropInData = false;
  let mailFrom: string | undefined;
  let recipients: string[] = [];
  connection.track(plain);
  plain.on('error', () => undefined);

  const send = (line: string): void => {
    socket.write(`${line}\r\n`);
    if (line.startsWith('421')) socket.end();
  };
  /** Answers with an injected reply fault if one was drawn; true when it did. */
  const injectedReply = (kind: FaultKind | undefined): boolean => {
    const line = kind === undefined ? undefined : replyFor[kind];
    if (line === undefined) return false;
    send(line);
    return true;
  };
  const resetTransaction = (): void => {
    mailFrom = undefined;
    recipients = [];
  };

  const onCommand = (line: string): void => {
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO' || verb === 'HELO') {
      resetTransaction();
      const extensions = ['8BITMIME', 'ENHANCEDSTATUSCODES', 'SIZE 52428800'];
      if (connection.secureContext !== undefined && !secure) extensions.push('STARTTLS');
      send(
        [
          '250-fault.test',
          ...extensions.map((e, i) => `250${i === extensions.length - 1 ? ' ' : '-'}${e}`),
        ].join('\r\n'),
      );
    } else if (line.toUpperCase() === 'STARTTLS' && connection.secureContext !== undefined && !secure) {
      send('220 2.0.0 Ready to start TLS');
      if (connection.fault(['tls-handshake']) !== undefined) {
        // Garbage where a ServerHello belongs: the client's handshake fails.
        socket.end('this is not a TLS record\r\n');
        return;
      }
      plain.removeListener('data', onBytes);
      const upgraded = new TLSSocket(plain, { isServer: true, secureContext: connection.secureContext });
      upgraded.on('error', () => plain.destroy());
      socket = upgraded;
      secure = true;
      buffer = Buffer.alloc(0);
      upgraded.on('data', onBytes);
    } else if (verb === 'MAIL') {
      if (!secure) connection.onPlaintextMail();
      if (injectedReply(connection.fault(['reply-421', 'reply-451']))) return;
      mailFrom = /<([^>]*)>/.exec(line)?.[1] ?? '';
      send('250 2.1.0 Ok');
    } else if (verb === 'RCPT') {
      const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
      if (mailFrom === undefined) send('503 5.5.1 MAIL first');
      else if (connection.alwaysDefer.has(address.toLowerCase())) send('451 4.2.0 mailbox busy, always');
      else if (connection.alwaysReject.has(address.toLowerCase())) send('550 5.1.1 no such user');
      else if (!injectedReply(connection.fault(['reply-421', 'reply-451']))) {
        recipients.push(address);
        send('250 2.1.5 Ok');
      }
    } else if (verb === 'DATA') {
      if (recipients.length === 0) send('554 5.5.1 no valid recipients');
      else if (!injectedReply(connection.fault(['reply-421', 'reply-451']))) {
        inData = true;
        dropInData = connection.fault(['drop-mid-data']) !== undefined;
        send('354 End data with <CR><LF>.<CR><LF>');
      }
    } else if (verb === 'RSET') {
      resetTransaction();
      send('250 2.0.0 Ok');
    } else if (verb === 'NOOP') send('250 2.0.0 Ok');
    else if (verb === 'QUIT') {
      send('221 2.0.0 Bye');
      socket.end();
    } else send('500 5.5.2 command not recognised');
  };

  const onData = (data: string): void => {
    inData = false;
    if (injectedReply(connection.fault(['reply-421', 'reply-451']))) {
      resetTransaction();
      return;
    }
    connection.onMessage({
      mailFrom: mailFrom ?? '',
      recipients,
      data: data.replace(/^\.\./gm, '.'),
      secure,
    });
    resetTransaction();
    send('250 2.0.0 Ok: queued');
  };

  function onBytes(chunk: Buffer): void {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (inData) {
        if (dropInData) {
          socket.destroy();
          return;
        }
        const text = buffer.toString('latin1');
        const end = text.startsWith('.\r\n') ? 0 : text.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const bodyEnd = end === 0 ? 0 : end + 2;
        buffer = buffer.subarray(bodyEnd + 3);
        onData(text.slice(0, bodyEnd));
        continue;
      }
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.subarray(0, end).toString('latin1');
      buffer = buffer.subarray(end + 2);
      const wasSecure = secure;
      onCommand(line);
      // Bytes pipelined after STARTTLS are dropped, as a careful server does.
      if (secure !== wasSecure || socket.writableEnded || socket.destroyed) return;
    }
  }

  if (connection.fault(['stall']) !== undefined) {
    // No banner at all: the client must give up on its own.
    setTimeout(() => plain.destroy(), 60_000).unref();
    return;
  }
  if (injectedReply(connection.fault(['reply-421']))) return;
  send('220 fault.test ESMTP');
  plain.on('data', onBytes);
}
