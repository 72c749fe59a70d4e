import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcStat } from '../../../bench/proc.ts';
import { parseProcStat, parseSmapsRollup, treeOf, treeTicks } from '../../../bench/proc.ts';

const statLine = (
  pid: number,
  comm: string,
  ppid: number,
  utime: number,
  stime: number,
  cutime: number,
  cstime: number,
): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 100 1000 200\n`;

test('parseProcStat reads parent and CPU ticks, whatever the command name holds', () => {
  const cases: { name: string; text: string; expected: ProcStat | undefined }[] = [
    {
      name: 'plain',
      text: statLine(10, 'smtpd', 1, 5, 3, 0, 0),
      expected: { pid: 10, parentPid: 1, ownTicks: 8, reapedChildTicks: 0 },
    },
    {
      name: 'spaces and parentheses in the name',
      text: statLine(11, 'node (relay) x', 10, 1, 2, 30, 4),
      expected: { pid: 11, parentPid: 10, ownTicks: 3, reapedChildTicks: 34 },
    },
    { name: 'truncated', text: '12 (cut', expected: undefined },
    { name: 'not numbers', text: '13 (x) S a b c', expected: undefined },
  ];
  for (const { name, text, expected } of cases) assert.deepEqual(parseProcStat(text), expected, name);
});

test('treeOf keeps the root and its descendants only; treeTicks adds own and reaped ticks', () => {
  const stats: ProcStat[] = [
    { pid: 1, parentPid: 0, ownTicks: 1000, reapedChildTicks: 1000 },
    { pid: 100, parentPid: 1, ownTicks: 5, reapedChildTicks: 40 },
    { pid: 101, parentPid: 100, ownTicks: 7, reapedChildTicks: 0 },
    { pid: 102, parentPid: 101, ownTicks: 1, reapedChildTicks: 0 },
    { pid: 200, parentPid: 1, ownTicks: 99, reapedChildTicks: 0 },
  ];
  const cases = [
    { root: 100, pids: [100, 101, 102], ticks: 53 },
    { root: 102, pids: [102], ticks: 1 },
    { root: 999, pids: [], ticks: 0 },
  ];
  for (const { root, pids, ticks } of cases) {
    const tree = treeOf(root, stats);
    assert.deepEqual(
      tree.map((stat) => stat.pid).sort((a, b) => a - b),
      pids,
      `root ${root}`,
    );
    assert.equal(treeTicks(tree), ticks, `root ${root}`);
  }
});

test('parseSmapsRollup reads Rss and Pss in bytes, 0 when absent', () => {
  const cases = [
    {
      text: 'Rss:                1000 kB\nPss:                 500 kB\nPss_Dirty: 3 kB\n',
      expected: { rssBytes: 1_024_000, pssBytes: 512_000 },
    },
    { text: '', expected: { rssBytes: 0, pssBytes: 0 } },
  ];
  for (const { text, expected } of cases) assert.deepEqual(parseSmapsRollup(text), expected);
});
