// Mounts test/lazyfs (a FUSE filesystem that keeps everything unsynced in memory) over a backing
// directory, and cuts the power under it: kill -9 of the filesystem process drops every write,
// create, rename and unlink no fsync made durable, and the backing directory is left exactly as the
// last fsyncs made it. Needs root (or fusermount3) and /dev/fuse.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const buildScript = new URL('../lazyfs/build.sh', import.meta.url).pathname;

let binary: Promise<string> | undefined;

/** The lazyfs binary, built once per machine (cached under ~/.cache/mailfleet/bin/). */
export function lazyFsBinary(): Promise<string> {
  binary ??= run('bash', [buildScript], { maxBuffer: 1 << 20 }).then(({ stdout }) => stdout.trim());
  return binary;
}

export interface LazyMount {
  readonly mountpoint: string;
  /** Power cut: kill -9 of the filesystem and unmount; whatever was not fsync'd is gone. */
  cut(): Promise<void>;
  /** A clean unmount (everything still unsynced is dropped as well). */
  unmount(): Promise<void>;
}

export interface LazyMountOptions {
  /** Negative control: fsync succeeds but makes nothing durable (lazyfs -ignore-fsync). */
  readonly ignoreFsync?: boolean;
}

export async function mountLazyFs(
  backing: string,
  mountpoint: string,
  options: LazyMountOptions = {},
): Promise<LazyMount> {
  const flags = options.ignoreFsync === true ? ['-ignore-fsync'] : [];
  const child = spawn(await lazyFsBinary(), [...flags, backing, mountpoint], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`lazyfs exited (${code}) before mounting ${mountpoint}: ${stderr}`));
    });
  });
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    await detach(mountpoint, child);
  };
  return { mountpoint, cut: () => end('SIGKILL'), unmount: () => end('SIGTERM') };
}

/** After a kill -9 the mount stays, dead ("Transport endpoint is not connected"), until unmounted. */
async function detach(mountpoint: string, child: ChildProcess): Promise<void> {
  if (child.signalCode !== 'SIGKILL') return;
  await run('fusermount3', ['-u', '-z', mountpoint]);
}
