// A byte-exact SMTP client for tests: write raw bytes, read whole replies (multi-line aware).
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

export interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
  readonly text: string;
}

export class SmtpTestClient {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(
    port: number,
    options: {
      tls?: { ca: string; servername?: string };
      /** The client's source address: any of 127.0.0.0/8 reaches a relay on 127.0.0.1 (Linux routes it all to lo). */
      localAddress?: string;
    } = {},
  ): Promise<SmtpTestClient> {
    const source = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
    const socket = options.tls
      ? connectTls({
          host: '127.0.0.1',
          port,
          ...source,
          ca: options.tls.ca,
          servername: options.tls.servername ?? 'relay.test',
        })
      : connectTcp({ host: '127.0.0.1', port, ...source });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        resolve();
      });
      socket.once('error', reject);
    });
    return new SmtpTestClient(socket);
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Reads the next complete reply; rejects when the connection closes first. */
  async reply(): Promise<Reply> {
    for (;;) {
      const lines = this.#buffer.split('\r\n');
      let end = -1;
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3}( |$)/.test(lines[i] ?? '')) {
          end = i;
          break;
        }
      }
      if (end !== -1) {
        const replyLines = lines.slice(0, end + 1);
        this.#buffer = lines.slice(end + 1).join('\r\n');
        return { code: Number(replyLines[0]?.slice(0, 3)), lines: replyLines, text: replyLines.join('\n') };
      }
      if (this.#closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Waits until the server closes the connection. */
  async closedByServer(): Promise<void> {
    while (!this.#closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Upgrades with STARTTLS (the command must already have been answered 220). */
  async startTls(ca: string, servername = 'relay.test'): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = connectTls({ socket: plain, ca, servername });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => {
        resolve();
      });
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#buffer = '';
    this.#attach(secure);
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Closes with a TCP RST instead of a FIN, as a crashed or killed client would. */
  reset(): void {
    if ('encrypted' in this.#socket) this.#socket.destroy();
    else this.#socket.resetAndDestroy();
  }
}
