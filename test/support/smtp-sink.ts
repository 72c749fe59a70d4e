// Postfix's real smtp-sink as a next hop for delivery tests: dumps every transaction to a file
// (-d), and can soft- (-r) or hard-reject (-f) chosen commands. Restartable on the same port, so a
// test can answer 4xx first and 2xx later.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const smtpSinkPath = '/usr/sbin/smtp-sink';

export interface SmtpSinkOptions {
  /** Bind to this port (to restart a sink where delivery expects it); a free one when absent. */
  readonly port?: number;
  /** Bind address, 127.0.0.1 when absent (MX tests use other 127.0.0.x addresses). */
  readonly host?: string;
  /** Commands answered with a 4xx (smtp-sink -r), e.g. ['RCPT']. */
  readonly softReject?: readonly string[];
  /** Commands answered with a 5xx (smtp-sink -f), e.g. ['RCPT']. */
  readonly hardReject?: readonly string[];
  readonly softReply?: string;
  readonly hardReply?: string;
}

export interface DumpedMessage {
  readonly file: string;
  /** The whole dump: smtp-sink's X-Client and X-Mail/Rcpt-Args lines and Received line, then the message. */
  readonly raw: string;
  readonly mailFrom: string;
  readonly recipients: readonly string[];
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** Where smtp-sink writes one file per transaction (while receiving it: a file may be partial). */
  readonly dumpDir: string;
  /** Transactions dumped so far. */
  messages(): Promise<DumpedMessage[]>;
  /** Resolves once at least `count` transactions were dumped; rejects after timeoutMs. */
  waitForMessages(count: number, timeoutMs: number): Promise<DumpedMessage[]>;
  stop(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  const dumpDir = await mkdtemp(join(tmpdir(), 'mailfleet-sink-'));
  // smtp-sink drops root privileges to the -u user, who must be able to write the dumps.
  await chmod(dumpDir, 0o777);
  const privileges = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const args = [
    ...privileges,
    '-d',
    `${dumpDir}/%H%M%S.`,
    ...(options.softReject === undefined ? [] : ['-r', options.softReject.join(',')]),
    ...(options.hardReject === undefined ? [] : ['-f', options.hardReject.join(',')]),
    ...(options.softReply === undefined ? [] : ['-b', options.softReply]),
    ...(options.hardReply === undefined ? [] : ['-B', options.hardReply]),
    `${host}:${port}`,
    '64',
  ];
  const child = spawn(smtpSinkPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  try {
    await waitForTcp(host, port, 5000);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dumpDir, { recursive: true, force: true });
    throw new Error(`smtp-sink did not listen on ${host}:${port}: ${String(error)} ${stderr}`, {
      cause: error,
    });
  }

  async function messages(): Promise<DumpedMessage[]> {
    const names = (await readdir(dumpDir)).sort();
    return Promise.all(
      names.map(async (name) => parseDump(join(dumpDir, name), await readFile(join(dumpDir, name), 'utf8'))),
    );
  }

  return {
    host,
    port,
    dumpDir,
    messages,
    async waitForMessages(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A dump file is complete once its transaction ended; smtp-sink writes it while receiving.
        const found = (await messages()).filter(
          (message) => message.raw.includes('\n\n') || message.raw.includes('\r\n\r\n'),
        );
        if (found.length >= count) return found;
        if (Date.now() > deadline)
          throw new Error(`smtp-sink got ${found.length} of ${count} messages in ${timeoutMs} ms`);
        await new Promise((wait) => setTimeout(wait, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dumpDir, { recursive: true, force: true });
    },
  };
}

function parseDump(file: string, raw: string): DumpedMessage {
  const mailFrom = /^X-Mail-Args: <?([^>\s]*)>?/m.exec(raw)?.[1] ?? '';
  const recipients = [...raw.matchAll(/^X-Rcpt-Args: <?([^>\s]*)>?/gm)].map((match) => match[1] ?? '');
  return { file, raw, mailFrom, recipients };
}

export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(0, host, listening);
  });
  const address = server.address();
  await new Promise<void>((closed) =>
    server.close(() => {
      closed();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no TCP address bound');
  return address.port;
}

export async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((done) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => {
        done(false);
      });
    });
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((wait) => setTimeout(wait, 25));
  }
}
