// Postfix's smtp-sink as the next hop every relay under test delivers to; it counts the messages it receives.
import { spawn } from 'node:child_process';
import { freeLoopbackPort, waitForListener } from './free-port.ts';

export const smtpSinkPath = '/usr/sbin/smtp-sink';

export interface SmtpSink {
  readonly port: number;
  /** Messages received so far (the '.' that ends DATA). */
  delivered(): number;
  /** Resolves with the count once it reaches target, or with whatever arrived when timeoutMs passes. */
  waitForDelivered(target: number, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Write each message received to a file under this directory (smtp-sink -d), for DKIM checks. */
  readonly dumpDirectory?: string;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const port = await freeLoopbackPort();
  // -c prints "sess=N quit=N mesg=N" counters; as root smtp-sink must drop privileges (-u).
  const privileges = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const dump = options.dumpDirectory === undefined ? [] : ['-d', `${options.dumpDirectory}/%H%M%S.`];
  return startCountingSink(
    smtpSinkPath,
    ['-c', ...privileges, ...dump, '-m', '2000', `127.0.0.1:${port}`, '2048'],
    port,
  );
}

/**
 * A sink process on `port` that prints `mesg=<count>` as messages arrive (smtp-sink's -c counters,
 * or bench/tls-ceiling-server.ts).
 */
export async function startCountingSink(
  command: string,
  args: readonly string[],
  port: number,
): Promise<SmtpSink> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  let count = 0;
  let waiters: (() => void)[] = [];
  let tail = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-200);
    const counters = [...tail.matchAll(/mesg=(\d+)/g)];
    const latest = counters.at(-1)?.[1];
    if (latest !== undefined) count = Number(latest);
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    await Promise.race([
      waitForListener(port, 5000),
      exited.then(() => {
        throw new Error(`smtp-sink exited at start: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    delivered: () => count,
    async waitForDelivered(target, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < target && Date.now() < deadline) {
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, Math.min(500, Math.max(0, deadline - Date.now())));
          waiters.push(() => {
            clearTimeout(timer);
            wake();
          });
        });
      }
      return count;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
