// Runs mailfleet's relay (`node relay/main.ts --config <file>`) on loopback with a private spool,
// or says plainly why it cannot run yet.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayNodeFlags } from '../relay/runtime-flags.ts';
import { freeLoopbackPort, waitForListener } from './free-port.ts';
import type { MailfleetSecurity } from './mailfleet-config.ts';
import { mailfleetBenchConfig } from './mailfleet-config.ts';

export const repositoryRoot = join(import.meta.dirname, '..');
const relayMain = join(repositoryRoot, 'relay', 'main.ts');

export interface MailfleetRelay {
  readonly port: number;
  readonly pid: number;
  readonly directory: string;
  stop(): Promise<void>;
}

export class RelayNotRunnable extends Error {
  override readonly name = 'RelayNotRunnable';
}

export interface MailfleetOptions {
  readonly nextHopPort: number;
  /** Reuse this directory (and its spool) instead of a fresh one: a restart over an existing queue. */
  readonly directory?: string;
  /** One delivery at a time that waits an hour for a greeting: messages stay queued while a backlog is built. */
  readonly stalledDelivery?: boolean;
  /** STARTTLS, AUTH and DKIM (the realistic set). */
  readonly security?: MailfleetSecurity;
}

export async function startMailfleet(options: MailfleetOptions): Promise<MailfleetRelay> {
  if (!existsSync(relayMain)) throw new RelayNotRunnable('relay/main.ts does not exist');
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'mailfleet-bench-relay-')));
  const port = await freeLoopbackPort();
  // The relay watches its config's directory and reloads on any change there (relay/reload/watch.ts):
  // with relay.log beside it, every logged line, the reload's own included, would set off another
  // reload, and each reload starts an empty login cache.
  await mkdir(join(directory, 'config'), { recursive: true });
  const configPath = join(directory, 'config', 'relay.json');
  const config = mailfleetBenchConfig({
    port,
    nextHopPort: options.nextHopPort,
    spoolDirectory: join(directory, 'spool'),
    stalledDelivery: options.stalledDelivery ?? false,
    ...(options.security === undefined ? {} : { security: options.security }),
  });
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  // Logs go to a file: a pipe nobody drains would stall the relay.
  const logPath = join(directory, 'relay.log');
  const log = await open(logPath, 'a');
  // BENCH_RELAY_NODE_FLAGS: flags for the relay's node, to profile it inside a scenario
  // (e.g. "--cpu-prof --cpu-prof-dir=/tmp/relay-profiles"); the figures of such a run are not for comparison.
  const nodeFlags = (process.env['BENCH_RELAY_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
  const child = spawn(
    process.execPath,
    [...relayNodeFlags, ...nodeFlags, relayMain, '--config', configPath],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', log.fd, log.fd],
    },
  );
  await log.close();
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  const failStart = async (reason: string): Promise<never> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    const output = await readFile(logPath, 'utf8').catch(() => '');
    if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    throw new RelayNotRunnable(`${reason}: ${output.trim().split('\n').slice(-5).join(' | ').slice(0, 600)}`);
  };
  if (child.pid === undefined) return failStart('could not spawn node');
  const pid = child.pid;
  const started = await Promise.race([
    waitForListener(port, 20_000).then(
      () => 'listening' as const,
      () => 'silent' as const,
    ),
    exited.then(() => 'exited' as const),
  ]);
  if (started === 'exited') return failStart(`exited at start (code ${child.exitCode ?? child.signalCode})`);
  if (started === 'silent') return failStart('not listening after 20 s');
  return {
    port,
    pid,
    directory,
    async stop() {
      child.kill('SIGTERM');
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<false>((late) => setTimeout(late, 15_000, false)),
      ]);
      if (!stopped) child.kill('SIGKILL');
      await exited;
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}
