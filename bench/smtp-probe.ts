// A small SMTP client that times each transaction up to the 250 after the final dot: smtp-source
// reports only totals, so per-message latency (p50/p99) comes from this probe.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { benchRecipient, benchSender } from './smtp-source.ts';

interface Reply {
  readonly code: number;
  readonly text: string;
}

class SmtpConnection {
  readonly #socket: Socket;
  #buffered = '';
  #lines: string[] = [];
  #waiting: ((reply: Reply | Error) => void) | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.setTimeout(30_000, () => {
      socket.destroy(new Error('no reply within 30 s'));
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

  static async open(port: number): Promise<SmtpConnection> {
    const socket = connect(port, '127.0.0.1');
    const connection = new SmtpConnection(socket);
    await expect(connection.reply(), 220);
    await expect(connection.command('EHLO probe.bench.example'), 250);
    return connection;
  }

  async command(line: string): Promise<Reply> {
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  async data(body: string): Promise<Reply> {
    this.#socket.write(`${body}.\r\n`);
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

async function expect(pending: Promise<Reply>, code: number): Promise<void> {
  const reply = await pending;
  if (reply.code !== code) throw new Error(`expected ${code}, got: ${reply.text}`);
}

export function probeMessage(sequence: number, payloadBytes: number): string {
  const line = `${'x'.repeat(76)}\r\n`;
  const payload = line.repeat(Math.ceil(payloadBytes / line.length)).slice(0, payloadBytes);
  return (
    `From: <${benchSender}>\r\nTo: <${benchRecipient}>\r\nSubject: probe ${sequence}\r\n` +
    `Message-ID: <probe.${sequence}.${process.pid}@bench.example>\r\n\r\n` +
    `${payload.replace(/\r?\n?$/, '')}\r\n`
  );
}

export interface ProbeOptions {
  readonly port: number;
  readonly payloadBytes: number;
  readonly reuseConnection: boolean;
  /** Stop after this many messages … */
  readonly maxMessages: number;
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
  for (let sequence = 0; sequence < options.maxMessages && options.signal?.aborted !== true; sequence++) {
    const started = performance.now();
    try {
      connection ??= await SmtpConnection.open(options.port);
      await expect(connection.command(`MAIL FROM:<${benchSender}>`), 250);
      await expect(connection.command(`RCPT TO:<probe${sequence}.${benchRecipient}>`), 250);
      await expect(connection.command('DATA'), 354);
      await expect(connection.data(probeMessage(sequence, options.payloadBytes)), 250);
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
