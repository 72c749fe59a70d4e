// Reads /proc to account CPU seconds and memory to the process tree of a relay under test.
import { readdir, readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import type { MemoryUse, ProcStat } from './proc.ts';
import { parseProcStat, parseSmapsRollup, treeOf, treeTicks } from './proc.ts';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // the process exited between listing and reading
  }
}

async function allStats(): Promise<ProcStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const texts = await Promise.all(pids.map((pid) => readOptional(`/proc/${pid}/stat`)));
  return texts.flatMap((text) => {
    const stat = text === undefined ? undefined : parseProcStat(text);
    return stat === undefined ? [] : [stat];
  });
}

/** True while pid is a live process (not gone, not a zombie waiting to be reaped). */
export async function isRunning(pid: number): Promise<boolean> {
  const text = await readOptional(`/proc/${pid}/stat`);
  return text !== undefined && !/\) [ZX] /.test(text);
}

/** The processes of the tree under rootPid and of the trees under extraRoots (helpers such as a milter). */
export async function processTree(rootPid: number, extraRoots: readonly number[] = []): Promise<ProcStat[]> {
  const stats = await allStats();
  return [rootPid, ...extraRoots].flatMap((root) => treeOf(root, stats));
}

/** CPU seconds (user + system, reaped children included) the tree rooted at rootPid has used so far. */
export async function treeCpuSeconds(rootPid: number, extraRoots: readonly number[] = []): Promise<number> {
  return treeTicks(await processTree(rootPid, extraRoots)) / ticksPerSecond;
}

/** Resident memory of the tree: RSS summed (counts shared pages once per process) and PSS summed. */
export async function treeMemory(
  rootPid: number,
  extraRoots: readonly number[] = [],
): Promise<MemoryUse & { processes: number }> {
  const tree = await processTree(rootPid, extraRoots);
  const uses = await Promise.all(
    tree.map(async (stat) => {
      const text = await readOptional(`/proc/${stat.pid}/smaps_rollup`);
      return text === undefined ? { rssBytes: 0, pssBytes: 0 } : parseSmapsRollup(text);
    }),
  );
  return {
    rssBytes: uses.reduce((sum, use) => sum + use.rssBytes, 0),
    pssBytes: uses.reduce((sum, use) => sum + use.pssBytes, 0),
    processes: tree.length,
  };
}

export interface PeakMemory {
  readonly peakRssBytes: number;
  readonly peakPssBytes: number;
  readonly peakProcesses: number;
}

/** Samples the tree's memory every intervalMs until stopped; returns the peaks seen. */
export function sampleMemory(
  rootPid: number,
  extraRoots: readonly number[] = [],
  intervalMs = 250,
): { stop(): Promise<PeakMemory> } {
  let peak: PeakMemory = { peakRssBytes: 0, peakPssBytes: 0, peakProcesses: 0 };
  const sample = async (): Promise<void> => {
    const use = await treeMemory(rootPid, extraRoots);
    peak = {
      peakRssBytes: Math.max(peak.peakRssBytes, use.rssBytes),
      peakPssBytes: Math.max(peak.peakPssBytes, use.pssBytes),
      peakProcesses: Math.max(peak.peakProcesses, use.processes),
    };
  };
  let inFlight = sample();
  const timer = setInterval(() => {
    inFlight = inFlight.then(sample);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight.then(sample);
      return peak;
    },
  };
}
