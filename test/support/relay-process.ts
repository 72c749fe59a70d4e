// Starts the relay for a test, with a config written to a private temp dir: as a real child process
// (`node --max-semi-space-size=8 relay/main.ts --config ...`, exactly what the container runs) or in-process through the same
// startRelay() main.ts uses. Both clean up their processes and directories in stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayNodeFlags } from '../../relay/runtime-flags.ts';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { loadRelaySettings } from '../../relay/config/load.ts';
import { createLogger } from '../../relay/log.ts';
import { createRelayMetrics } from '../../relay/metrics.ts';
import { openSpool, type Spool } from '../../relay/queue/spool.ts';
import { startRelay, type RunningRelay } from '../../relay/smtp/server.ts';

const mainScript = new URL('../../relay/main.ts', import.meta.url).pathname;

export type ConfigDocument = Record<string, unknown>;

const startTimeoutMs = 60_000;

export interface LogLine {
  readonly event?: string;
  readonly [field: string]: unknown;
}

/** A temp dir with the config written into it; queue.dir defaults to a spool inside it. */
export async function writeRelayConfig(
  config: ConfigDocument,
  dir?: string,
): Promise<{ dir: string; configPath: string }> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'mailfleet-relay-')));
  const queue = {
    dir: join(target, 'spool'),
    minFreeBytes: 0,
    adminPort: 0,
    // The admin token beside the config, not in /tmp: a relay a test kills leaves nothing behind.
    adminTokenDir: target,
    ...(config['queue'] as object | undefined),
  };
  const http = { address: '127.0.0.1', port: 0, ...(config['http'] as object | undefined) };
  const configPath = join(target, 'relay.json');
  // Tests never send mail off the machine: by default delivery goes to a closed loopback port.
  const delivery = config['delivery'] ?? {
    mode: 'smarthost',
    smarthost: { host: '127.0.0.1', port: 9, tls: 'none' },
    allowPrivateDestinations: true,
  };
  await writeFile(configPath, JSON.stringify({ ...config, queue, http, delivery }, null, 2));
  return { dir: target, configPath };
}

export interface RelayProcess {
  readonly dir: string;
  readonly configPath: string;
  readonly child: ChildProcess;
  readonly smtpPorts: Readonly<Record<string, number>>;
  readonly httpPort: number;
  readonly logs: readonly LogLine[];
  /** Resolves with the first log line matching, waiting for it if needed. */
  waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`); removes the temp dir. Returns the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** `env`: variables added to the relay's environment (the TEST_ONLY switches of negative controls). */
export async function startRelayProcess(
  config: ConfigDocument,
  dir?: string,
  env: Readonly<Record<string, string>> = {},
): Promise<RelayProcess> {
  const written = await writeRelayConfig(config, dir);
  const child = spawn(process.execPath, [...relayNodeFlags, mainScript, '--config', written.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ event: 'unparsed', line });
      }
    }
    for (const waiter of waiters) waiter();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      for (const waiter of waiters) waiter();
      resolve(code);
    });
  });
  const waitForLog = async (predicate: (line: LogLine) => boolean): Promise<LogLine> => {
    for (;;) {
      const found = logs.find(predicate);
      if (found) return found;
      if (child.exitCode !== null)
        throw new Error(`relay exited (${child.exitCode}) before the expected log line; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
      });
    }
  };
  // A relay that never logs "started" (wedged, or log.level above info) fails the test instead of hanging it.
  let startTimer: NodeJS.Timeout | undefined;
  const started = await Promise.race([
    waitForLog((line) => line.event === 'started'),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `relay did not log "started" in ${startTimeoutMs} ms (log.level must be info or debug); stderr: ${stderr}`,
          ),
        );
      }, startTimeoutMs);
    }),
  ]).finally(() => {
    clearTimeout(startTimer);
  });
  return {
    ...written,
    child,
    smtpPorts: started['smtpPorts'] as Record<string, number>,
    httpPort: started['httpPort'] as number,
    logs,
    waitForLog,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      await rm(written.dir, { recursive: true, force: true });
      return code;
    },
  };
}

export interface InProcessRelay {
  readonly dir: string;
  readonly relay: RunningRelay;
  readonly spool: Spool;
  readonly registry: Registry;
  readonly logs: LogLine[];
  port(listener?: string): number;
  stop(): Promise<void>;
}

/** The relay in this process, through startRelay(), with the real spool in a temp dir. */
export async function startRelayInProcess(
  config: ConfigDocument,
  options: { clock?: () => number } = {},
): Promise<InProcessRelay> {
  const written = await writeRelayConfig(config);
  const loaded = await loadRelaySettings(written.configPath);
  if (!loaded.ok) throw new Error(`test config invalid:\n${loaded.errors.join('\n')}`);
  const settings = loaded.settings;
  const logs: LogLine[] = [];
  const logStream = new PassThrough();
  logStream.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
  });
  const logger = createLogger('debug', logStream);
  const registry = new Registry();
  const metrics = createRelayMetrics(registry);
  const spool = await openSpool({
    dir: settings.config.queue.dir,
    minFreeBytes: settings.config.queue.minFreeBytes,
    now: Date.now,
  });
  const relay = await startRelay({
    settings,
    sink: spool,
    metrics,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    dir: written.dir,
    relay,
    spool,
    registry,
    logs,
    port(listener) {
      const name = listener ?? settings.config.listeners[0]?.name ?? '';
      const port = relay.ports.get(name);
      if (port === undefined) throw new Error(`no listener ${name}`);
      return port;
    },
    async stop() {
      await relay.close(0);
      spool.close();
      await rm(written.dir, { recursive: true, force: true });
    },
  };
}
