// A child process of a test whose stderr is kept (its log, for failure messages), with a promise of
// its exit and a stop that sends SIGTERM once and waits.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface LoggedProcess {
  readonly child: ChildProcessByStdio<null, null, Readable>;
  readonly exited: Promise<void>;
  readonly log: () => string;
  readonly stop: () => Promise<void>;
}

export function startLogged(command: string, args: readonly string[]): LoggedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      done();
    });
  });
  return {
    child,
    exited,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
