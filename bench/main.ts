// `make bench`: measures Postfix, the machine's ceiling and (when it runs) mailfleet's relay, and
// writes docs/benchmarks.md. BENCH_QUICK=1 makes it a short smoke run; BENCH_OUTPUT names another file.
// BENCH_SCENARIOS=<id>,... runs only those scenarios (no idle sessions, no backlog) and needs
// BENCH_OUTPUT; BENCH_REPEATS=<n> repeats each scenario n times instead of 5. BENCH_SCENARIOS=realistic
// (the realistic set alone) without BENCH_OUTPUT rewrites only that section of docs/benchmarks.md.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describeMachine } from './machine.ts';
import { repositoryRoot } from './mailfleet.ts';
import { realisticGroup } from './realistic.ts';
import { renderBenchmarks } from './report.ts';
import { renderRealisticSection, spliceRealisticSection } from './report-realistic.ts';
import { Cleanups, runBenchmarks } from './run.ts';
import { benchPlan, focusPlan } from './scenarios.ts';

const quick = process.env['BENCH_QUICK'] === '1';
const scenarioIds = process.env['BENCH_SCENARIOS']?.split(',').map((id) => id.trim());
const repeatsText = process.env['BENCH_REPEATS'];
const plan = focusPlan(
  benchPlan(quick),
  scenarioIds,
  repeatsText === undefined ? undefined : Number(repeatsText),
);
const realisticOnly = scenarioIds?.length === 1 && scenarioIds[0] === realisticGroup;
if (plan.focused && !realisticOnly && process.env['BENCH_OUTPUT'] === undefined) {
  console.error(
    'BENCH_SCENARIOS measures only part of the benchmark: name a file with BENCH_OUTPUT (docs/benchmarks.md keeps the full run; BENCH_SCENARIOS=realistic alone rewrites its own section)',
  );
  process.exit(2);
}
const spliceIntoDocs = realisticOnly && process.env['BENCH_OUTPUT'] === undefined;
const output = process.env['BENCH_OUTPUT'] ?? join(repositoryRoot, 'docs', 'benchmarks.md');
const command = [
  ...(quick ? ['BENCH_QUICK=1'] : []),
  ...(scenarioIds === undefined ? [] : [`BENCH_SCENARIOS=${scenarioIds.join(',')}`]),
  ...(repeatsText === undefined ? [] : [`BENCH_REPEATS=${repeatsText}`]),
  'make bench',
].join(' ');

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
  const report = await runBenchmarks({ plan, machine: await describeMachine(), command, progress }, cleanups);
  const rendered = spliceIntoDocs
    ? spliceRealisticSection(await readFile(output, 'utf8'), renderRealisticSection(report).join('\n'))
    : renderBenchmarks(report, renderRealisticSection(report));
  // Formatted as `make lint` expects, so a regenerated file passes `prettier --check`.
  const options = (await resolveConfig(output)) ?? {};
  await writeFile(output, await format(rendered, { ...options, filepath: output }));
  progress(`wrote ${output}`);
} finally {
  await cleanups.runAll();
}
