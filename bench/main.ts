// `make bench`: measures Postfix, the machine's ceiling and (when it runs) mailfleet's relay, and
// writes docs/benchmarks.md. BENCH_QUICK=1 makes it a short smoke run; BENCH_OUTPUT names another file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describeMachine } from './machine.ts';
import { repositoryRoot } from './mailfleet.ts';
import { renderBenchmarks } from './report.ts';
import { Cleanups, runBenchmarks } from './run.ts';
import { benchPlan } from './scenarios.ts';

const quick = process.env['BENCH_QUICK'] === '1';
const output = process.env['BENCH_OUTPUT'] ?? join(repositoryRoot, 'docs', 'benchmarks.md');
const command = quick ? 'BENCH_QUICK=1 make bench' : 'make bench';

const cleanups = new Cleanups();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanups.runAll().finally(() => process.exit(130));
  });
}

// Progress goes to stderr; a closed reader (`| head`) must not end the run before it cleans up.
process.stderr.on('error', () => undefined);
const progress = (message: string): void => {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
};

try {
  const report = await runBenchmarks(
    { plan: benchPlan(quick), machine: await describeMachine(), command, progress },
    cleanups,
  );
  // Formatted as `make lint` expects, so a regenerated file passes `prettier --check`.
  const options = (await resolveConfig(output)) ?? {};
  await writeFile(output, await format(renderBenchmarks(report), { ...options, filepath: output }));
  progress(`wrote ${output}`);
} finally {
  await cleanups.runAll();
}
