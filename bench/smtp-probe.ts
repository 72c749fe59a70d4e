// A small SMTP client that times each transaction up to the 250 after the final dot: smtp-source
// reports only totals, so per-message latency (p50/p99) comes from this probe.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls, createSecureContext, type SecureContext } from 'node:tls';
import type { RealisticCredentials } from './realistic.ts';
import { benchRecipient, benchSender } from './smtp-source.ts';

interface Reply {
  readonly code: number;
  readonly text: string;
}

const plainTimeoutSeconds = 30;
/**
 * RFC 5321's 5 minutes (4.5.3.2): a relay busy checking 20 bcrypt logins at once on a loaded
 * machine answers AUTH after tens of seconds, and a real client waits for it.
 */
const secureTimeoutSeconds = 300;

class SmtpConnection {
  readonly #socket: Socket;
  #buffered = '';
  #lines: string[] = [];
  #waiting: ((reply: Reply | Error) => void) | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket, timeoutSeconds: number) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.setTimeout(timeoutSeconds * 1000, () => {
      socket.destroy(new Error(`no reply within ${timeoutSeconds} s`));
    });
    socket.on('data', (chunk: string) => {
      this.#receive(chunk);
    });
    socket.on('error', (error) => {
      this.#fail(error);
    });
    socket.on('close', () => {
      this.#fail(new Error('connection closed'));
    });
  }

  static async open(port: number, secure: SecureSession | undefined): Promise<SmtpConnection> {
    const socket = connect(port, '127.0.0.1');
    const connection = new SmtpConnection(
      socket,
      secure === undefined ? plainTimeoutSeconds : secureTimeoutSeconds,
    );
    await expect(connection.reply(), 220);
    await expect(connection.command('EHLO probe.bench.example'), 250);
    return secure === undefined ? connection : connection.#startTlsAndAuthenticate(secure);
  }

  /** STARTTLS, EHLO again inside TLS, AUTH PLAIN: what a client of a submission relay does per session. */
  async #startTlsAndAuthenticate(secure: SecureSession): Promise<SmtpConnection> {
    await expect(this.command('STARTTLS'), 220);
    // From here the TLS socket reads and times the connection; this one must not.
    this.#socket.setTimeout(0);
    this.#socket.removeAllListeners('data');
    const tlsSocket = connectTls({
      socket: this.#socket,
      servername: secure.serverName,
      secureContext: clientContext(secure),
    });
    const connection = new SmtpConnection(tlsSocket, secureTimeoutSeconds);
    await new Promise<void>((done, failed) => {
      tlsSocket.once('secureConnect', done);
      tlsSocket.once('error', failed);
    });
    if (tlsSocket.isSessionReused())
      throw new Error('a TLS session was resumed: every connection must be a full handshake');
    await expect(connection.command('EHLO probe.bench.example'), 250);
    const { user, password } = secure.credentials;
    const plain = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    await expect(connection.command(`AUTH PLAIN ${plain}`), 235);
    return connection;
  }

  async command(line: string): Promise<Reply> {
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** The message and the final dot in one write (the socket is corked around the pieces). */
  async data(message: ProbeMessage): Promise<Reply> {
    this.#socket.cork();
    this.#socket.write(message.header, 'latin1');
    this.#socket.write(message.bodyAndDot);
    this.#socket.uncork();
    return this.reply();
  }

  reply(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#waiting = (outcome) => {
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      this.#deliver();
    });
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
  }

  #receive(chunk: string): void {
    this.#buffered += chunk;
    const lines = this.#buffered.split('\r\n');
    this.#buffered = lines.pop() ?? '';
    this.#lines.push(...lines);
    this.#deliver();
  }

  #deliver(): void {
    if (this.#waiting === undefined) return;
    // A reply ends at the line whose fourth character is a space ("250 ok" after "250-...").
    const last = this.#lines.findIndex((line) => line.length < 4 || line[3] === ' ');
    if (last === -1) {
      if (this.#failure !== undefined) this.#settle(this.#failure);
      return;
    }
    const reply = this.#lines.splice(0, last + 1);
    this.#settle({ code: Number(reply[last]?.slice(0, 3)), text: reply.join('\n') });
  }

  #settle(outcome: Reply | Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(outcome);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#deliver();
  }
}

/**
 * One client TLS context per load (the trusted CA and the TLS versions), as a real client keeps
 * one: made per connection it cost the load generator more CPU than its handshake, CPU the relay
 * under test shares on this machine. Sessions are not resumed: every connection is a full
 * handshake, which the relay pays in full.
 */
const clientContexts = new WeakMap<SecureSession, SecureContext>();

function clientContext(secure: SecureSession): SecureContext {
  let context = clientContexts.get(secure);
  if (context === undefined) {
    context = createSecureContext({ ca: secure.caPem, minVersion: 'TLSv1.2', maxVersion: secure.tlsVersion });
    clientContexts.set(secure, context);
  }
  return context;
}

async function expect(pending: Promise<Reply>, code: number): Promise<void> {
  const reply = await pending;
  if (reply.code !== code) throw new Error(`expected ${code}, got: ${reply.text}`);
}

/** A probe message as it is written after DATA: its own header section, and the body every message shares. */
export interface ProbeMessage {
  readonly header: string;
  /** The body of `payloadBytes`, CRLF, and the final dot: encoded once per load. */
  readonly bodyAndDot: Buffer;
}

const bodies = new Map<number, Buffer>();

function bodyAndDot(payloadBytes: number): Buffer {
  let body = bodies.get(payloadBytes);
  if (body === undefined) {
    const line = `${'x'.repeat(76)}\r\n`;
    const payload = line.repeat(Math.ceil(payloadBytes / line.length)).slice(0, payloadBytes);
    body = Buffer.from(`${payload.replace(/\r?\n?$/, '')}\r\n.\r\n`, 'latin1');
    bodies.set(payloadBytes, body);
  }
  return body;
}

export function probeMessage(sequence: number, payloadBytes: number, sender = benchSender): ProbeMessage {
  return {
    header:
      `From: <${sender}>\r\nTo: <${benchRecipient}>\r\nSubject: probe ${sequence}\r\n` +
      `Message-ID: <probe.${sequence}.${process.pid}@bench.example>\r\n\r\n`,
    bodyAndDot: bodyAndDot(payloadBytes),
  };
}

/** How a realistic client opens each session and whom it sends as. */
export interface SecureSession {
  readonly tlsVersion: 'TLSv1.3' | 'TLSv1.2';
  readonly serverName: string;
  /** The server's self-signed certificate, trusted as the CA: the client verifies it. */
  readonly caPem: string;
  readonly credentials: RealisticCredentials;
  /** MAIL FROM and From: (the domain picks the DKIM keys on both relays). */
  readonly sender: string;
}

export interface ProbeOptions {
  readonly port: number;
  /** STARTTLS + AUTH on every session; plaintext when absent. */
  readonly secure?: SecureSession;
  readonly payloadBytes: number;
  readonly reuseConnection: boolean;
  /** Stop after this many messages … */
  readonly maxMessages: number;
  /** Numbers the messages (their recipient and subject) from here; 0 when absent. */
  readonly firstSequence?: number;
  /** … or once this signal aborts, whichever comes first. */
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  /** Milliseconds from the start of each transaction (connect, or MAIL on a reused connection) to the 250 after the dot. */
  readonly latenciesMs: readonly number[];
  readonly accepted: number;
  readonly failures: readonly string[];
}

/** Sends messages one after the other, timing each; a failed transaction is recorded and the probe reconnects. */
export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let connection: SmtpConnection | undefined;
  const sender = options.secure?.sender ?? benchSender;
  const first = options.firstSequence ?? 0;
  for (
    let sequence = first;
    sequence - first < options.maxMessages && options.signal?.aborted !== true;
    sequence++
  ) {
    const started = performance.now();
    try {
      connection ??= await SmtpConnection.open(options.port, options.secure);
      await expect(connection.command(`MAIL FROM:<${sender}>`), 250);
      await expect(connection.command(`RCPT TO:<probe${sequence}.${benchRecipient}>`), 250);
      await expect(connection.command('DATA'), 354);
      await expect(connection.data(probeMessage(sequence, options.payloadBytes, sender)), 250);
      latenciesMs.push(performance.now() - started);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      connection?.close();
      connection = undefined;
      if (failures.length > 10) break;
      continue;
    }
    if (!options.reuseConnection) {
      connection.close();
      connection = undefined;
    }
  }
  connection?.close();
  return { latenciesMs, accepted: latenciesMs.length, failures };
}

/**
 * `sessions` probes side by side share `maxMessages` out: the load of the realistic set, where
 * every client does STARTTLS and AUTH (smtp-source can do neither). Every message is timed.
 */
export async function runClients(options: ProbeOptions, sessions: number): Promise<ProbeResult> {
  const share = Math.floor(options.maxMessages / sessions);
  const extra = options.maxMessages % sessions;
  const results = await Promise.all(
    Array.from({ length: sessions }, (_, session) =>
      runProbe({
        ...options,
        maxMessages: share + (session < extra ? 1 : 0),
        firstSequence: session * (share + 1),
      }),
    ),
  );
  return {
    latenciesMs: results.flatMap((result) => result.latenciesMs),
    accepted: results.reduce((sum, result) => sum + result.accepted, 0),
    failures: countedOnce(results.flatMap((result) => result.failures)),
  };
}

/** Each distinct failure once, with how many times it happened (20 sessions tend to fail alike). */
function countedOnce(failures: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const failure of failures) counts.set(failure, (counts.get(failure) ?? 0) + 1);
  return [...counts].map(([failure, count]) => (count === 1 ? failure : `${count}× ${failure}`));
}
