// The floor goals of docs/performance.md judged over many rounds (`make floor-ratio`): CPU of every
// thread per 2 KB message (plaintext, a new connection each) for smtp-server's floor
// (hack/floor-server.ts), the relay receiving only, and the relay end to end, measured in turns by
// hack/profile-relay.sh so each round's three figures share the machine's state. How fast this kind
// of machine is moves through the day by more than the gap to a goal, so a goal is judged over many
// rounds: on the median of each round's own ratio to its floor.
// Options, as environment variables: FLOOR_ROUNDS=8, FLOOR_MESSAGES=6000 (PROFILE_MESSAGES of each
// run), FLOOR_OUTPUT=<file> (also writes the table there, as Markdown), FLOOR_COMPARE=<dir> (another
// checkout, e.g. a `git worktree` of the commit before a change: its relay is measured in the same
// turns, so what a change bought is read against the same floor).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ratio } from '../bench/stats.ts';

const profileScript = fileURLToPath(new URL('profile-relay.sh', import.meta.url));
const rounds = Number(process.env['FLOOR_ROUNDS'] ?? 8);
const messages = Number(process.env['FLOOR_MESSAGES'] ?? 6000);
const compare = process.env['FLOOR_COMPARE'];

interface Load {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly script: string;
  readonly goal?: number;
}

const loads: readonly Load[] = [
  { name: 'floor (smtp-server)', env: { PROFILE_FLOOR: 'smtp-server' }, script: profileScript },
  { name: 'relay, receiving only', env: { PROFILE_RECEIVE_ONLY: '1' }, script: profileScript, goal: 2 },
  { name: 'relay, end to end', env: {}, script: profileScript, goal: 2.5 },
  ...(compare === undefined
    ? []
    : [
        { name: `${compare}: receiving only`, env: { PROFILE_RECEIVE_ONLY: '1' } },
        { name: `${compare}: end to end`, env: {} },
      ].map((load) => ({ ...load, script: join(compare, 'hack', 'profile-relay.sh') }))),
];

/** The "all threads ... (total X)" figure of one profile-relay.sh run, in ms a message. */
function totalCpuPerMessage(output: string): number {
  const match = /all threads .*\(total ([\d.]+)\)/.exec(output);
  if (!match?.[1]) throw new Error(`no CPU total in hack/profile-relay.sh's output:\n${output}`);
  return Number(match[1]);
}

function measure(load: Load): number {
  const output = execFileSync('bash', [load.script], {
    env: { ...process.env, ...load.env, PROFILE_MESSAGES: String(messages) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return totalCpuPerMessage(output);
}

const figures: number[][] = loads.map(() => []);
const started = new Date();
for (let round = 1; round <= rounds; round += 1) {
  const row = loads.map((load, index) => {
    const cpu = measure(load);
    figures[index]?.push(cpu);
    return cpu;
  });
  const floor = row[0] ?? Number.NaN;
  const parts = row.map((cpu, index) =>
    index === 0
      ? `${loads[index]?.name} ${cpu.toFixed(3)} ms`
      : `${loads[index]?.name} ${cpu.toFixed(3)} ms (${(cpu / floor).toFixed(2)}×)`,
  );
  process.stdout.write(`round ${round}/${rounds}: ${parts.join(', ')}\n`);
}

const fixed = (value: number | undefined, digits: number): string => value?.toFixed(digits) ?? '-';
const floorMedian = median(figures[0] ?? []);
// A goal is judged on the median of the rounds' own ratios: each round's loads ran back to back, so
// its ratio is paired and a slower spell of the machine moves both sides of it. The ratio of the
// two medians is printed beside it; it mixes rounds and moves with the machine's drift.
const lines = [
  `${rounds} rounds of ${messages.toLocaleString('en')} messages each, ${started.toISOString().slice(0, 16)} UTC; ` +
    "CPU of every thread per message, median (min–max); ÷ the floor: the median (min–max) of each round's load against that round's floor, and the ratio of the medians.",
  '',
  '| load | CPU per message | ÷ floor, by round | ÷ floor (medians) | goal (by round) |',
  '| --- | --- | --- | ---: | --- |',
  ...loads.map((load, index) => {
    const values = figures[index] ?? [];
    const own = values.map((value, round) => value / (figures[0]?.[round] ?? Number.NaN));
    const paired = median(own);
    const goal = load.goal;
    const verdict =
      goal === undefined || paired === undefined ? '' : `≤ ${goal}×: ${paired <= goal ? 'met' : 'missed'}`;
    const cpu = `${fixed(median(values), 3)} ms (${fixed(Math.min(...values), 3)}–${fixed(Math.max(...values), 3)})`;
    if (index === 0) return `| ${load.name} | ${cpu} | | | |`;
    return (
      `| ${load.name} | ${cpu} ` +
      `| ${fixed(paired, 2)}× (${fixed(Math.min(...own), 2)}–${fixed(Math.max(...own), 2)}×) ` +
      `| ${fixed(ratio(median(values), floorMedian), 2)}× | ${verdict} |`
    );
  }),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
if (process.env['FLOOR_OUTPUT']) writeFileSync(process.env['FLOOR_OUTPUT'], `${lines.join('\n')}\n`);
