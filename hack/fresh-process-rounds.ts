// The measuring loop the hack/*-cost.ts scripts share: each mode measured `rounds` times, the modes
// alternating, every measurement in a fresh process (`<script> child <mode> <args...>` printing one
// number), and the median of each mode.
import { execFileSync } from 'node:child_process';

export function medianOfFreshRounds(
  script: string,
  modes: readonly string[],
  args: readonly string[],
  rounds = 5,
): number[] {
  const costs = new Map<string, number[]>(modes.map((mode) => [mode, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of modes) {
      const output = execFileSync(process.execPath, [script, 'child', mode, ...args]);
      costs.get(mode)?.push(Number(output.toString().trim()));
    }
  }
  return modes.map((mode) => {
    const sorted = (costs.get(mode) ?? []).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  });
}
