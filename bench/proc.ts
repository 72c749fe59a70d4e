// Parsing of /proc files (pure): how the harness accounts CPU time and memory to a process tree.

export interface ProcStat {
  readonly pid: number;
  readonly parentPid: number;
  /** utime + stime of the process itself, in clock ticks. */
  readonly ownTicks: number;
  /** cutime + cstime: CPU of children this process has already reaped, in clock ticks. */
  readonly reapedChildTicks: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields from the 3rd (state) on; utime is the 14th field of the file, so index 11 here.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const numberAt = (index: number): number => Number(fields[index]);
  const stat = {
    pid,
    parentPid: numberAt(1),
    ownTicks: numberAt(11) + numberAt(12),
    reapedChildTicks: numberAt(13) + numberAt(14),
  };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** Every pid in the tree rooted at rootPid (rootPid included when present). */
export function treeOf(rootPid: number, stats: readonly ProcStat[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) {
    const siblings = children.get(stat.parentPid) ?? [];
    siblings.push(stat);
    children.set(stat.parentPid, siblings);
  }
  const root = stats.find((stat) => stat.pid === rootPid);
  if (root === undefined) return [];
  const tree: ProcStat[] = [];
  const pending = [root];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    tree.push(next);
    pending.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

/**
 * CPU ticks of a process tree: every live member's own ticks plus what each has reaped. A child
 * that exits between two readings moves from its own counters into its parent's reaped counters,
 * so the difference of two readings is the tree's CPU use in between.
 */
export function treeTicks(tree: readonly ProcStat[]): number {
  return tree.reduce((sum, stat) => sum + stat.ownTicks + stat.reapedChildTicks, 0);
}

export interface MemoryUse {
  readonly rssBytes: number;
  readonly pssBytes: number;
}

/** Parses the Rss: and Pss: lines (kB) of /proc/<pid>/smaps_rollup. */
export function parseSmapsRollup(text: string): MemoryUse {
  const kilobytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  };
  return { rssBytes: kilobytes('Rss'), pssBytes: kilobytes('Pss') };
}
