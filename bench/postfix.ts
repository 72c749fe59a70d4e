// Runs a private Postfix (its own config_directory and queue_directory under a temp dir) on loopback,
// and stops exactly the processes it started.
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort, waitForListener } from './free-port.ts';
import type { PostfixSettings } from './postfix-config.ts';
import { cyrusSmtpdConf, postfixMainCf, postfixMasterCf } from './postfix-config.ts';
import { isRunning, processTree } from './process-tree.ts';

const run = promisify(execFile);

export interface PostfixInstance {
  readonly port: number;
  readonly masterPid: number;
  readonly directory: string;
  /** Moves every held message back into the active queue and asks qmgr to deliver now. */
  releaseHeld(): Promise<void>;
  /** Queue files in the incoming, active, deferred, hold and maildrop queues. */
  queuedFiles(): Promise<number>;
  stop(): Promise<void>;
}

export interface PostfixOptions {
  readonly nextHopPort: number;
  readonly holdEverything?: boolean;
  readonly maxSessions?: number;
  /** Pass every message through the milter on this port (no TLS, AUTH or signing). */
  readonly milterPort?: number;
  /** STARTTLS with this pair, AUTH against this sasldb, DKIM by the milter on this port (the realistic set). */
  readonly security?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly sasldbFile: string;
    readonly milterPorts: readonly number[];
  };
}

export async function postfixVersion(): Promise<string> {
  const { stdout } = await run('/usr/sbin/postconf', ['-d', '-h', 'mail_version']);
  return stdout.trim();
}

async function countFiles(directory: string): Promise<number> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).length;
  } catch {
    return 0;
  }
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  const directory = await mkdtemp(join(tmpdir(), 'mailfleet-bench-postfix-'));
  const settings: PostfixSettings = {
    directory,
    listenPort: await freeLoopbackPort(),
    nextHopPort: options.nextHopPort,
    holdEverything: options.holdEverything ?? false,
    maxSessions: options.maxSessions ?? 1100,
    ...(options.milterPort === undefined ? {} : { milterPort: options.milterPort }),
    ...(options.security === undefined
      ? {}
      : {
          security: {
            certFile: options.security.certFile,
            keyFile: options.security.keyFile,
            // Debian's Postfix reads <config_directory>/sasl/smtpd.conf whatever cyrus_sasl_config_path says.
            saslConfigDirectory: join(directory, 'etc', 'sasl'),
            milterPorts: options.security.milterPorts,
          },
        }),
  };
  // Postfix's unprivileged daemons must reach the queue and data directories below it.
  await chmod(directory, 0o755);
  const configDirectory = join(directory, 'etc');
  await mkdir(configDirectory);
  await mkdir(join(directory, 'queue'));
  await mkdir(join(directory, 'data'));
  const { uid, gid } = await postfixAccount();
  await chown(join(directory, 'data'), uid, gid);
  await writeFile(join(configDirectory, 'main.cf'), postfixMainCf(settings));
  await writeFile(join(configDirectory, 'master.cf'), postfixMasterCf(settings));
  if (options.security !== undefined) {
    await mkdir(join(configDirectory, 'sasl'));
    await writeFile(join(configDirectory, 'sasl', 'smtpd.conf'), cyrusSmtpdConf(options.security.sasldbFile));
  }
  const postfix = (...args: string[]) => run('/usr/sbin/postfix', ['-c', configDirectory, ...args]);
  try {
    await postfix('start');
    await waitForListener(settings.listenPort, 10_000);
  } catch (error) {
    const log = await readFile(join(directory, 'maillog'), 'utf8').catch(() => '');
    const masterPid = await readFile(join(directory, 'queue/pid/master.pid'), 'utf8').catch(() => '');
    if (masterPid.trim() !== '') killIfAlive(Number(masterPid.trim()), 'SIGTERM');
    await rm(directory, { recursive: true, force: true });
    throw new Error(`postfix did not start: ${String(error)}\n${log.slice(-2000)}`, { cause: error });
  }
  const masterPid = Number((await readFile(join(directory, 'queue/pid/master.pid'), 'utf8')).trim());
  const queues = ['incoming', 'active', 'deferred', 'hold', 'maildrop'];
  return {
    port: settings.listenPort,
    masterPid,
    directory,
    async releaseHeld() {
      await run('/usr/sbin/postsuper', ['-c', configDirectory, '-H', 'ALL']);
      await run('/usr/sbin/postqueue', ['-c', configDirectory, '-f']);
    },
    async queuedFiles() {
      const counts = await Promise.all(queues.map((queue) => countFiles(join(directory, 'queue', queue))));
      return counts.reduce((sum, count) => sum + count, 0);
    },
    async stop() {
      // Only the processes of this master: it signals its children, then SIGKILL whatever lingers.
      const pids = (await processTree(masterPid)).map((stat) => stat.pid);
      process.kill(masterPid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      let alive = pids;
      while (alive.length > 0 && Date.now() < deadline) {
        await new Promise((wait) => setTimeout(wait, 100));
        alive = (await Promise.all(alive.map(async (pid) => ((await isRunning(pid)) ? [pid] : [])))).flat();
      }
      for (const pid of alive) killIfAlive(pid, 'SIGKILL');
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function postfixAccount(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', 'postfix']);
  const { stdout: group } = await run('id', ['-g', 'postfix']);
  return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
}

function killIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // it exited in the meantime
  }
}
