// Renders docs/benchmarks.md from the measured figures (pure): the numbers in that file come only
// from here, never from a hand edit.
import type { BacklogFigures } from './backlog.ts';
import type { Goal } from './goals.ts';
import { goals, judgeGoals } from './goals.ts';
import type { IdleSessionsFigures } from './idle-sessions.ts';
import type { MachineInfo } from './machine.ts';
import type { RunFigures, TargetName } from './measure.ts';
import { benchPlan, type BenchPlan, type Scenario } from './scenarios.ts';
import { median, ratio } from './stats.ts';

export type RelayName = Exclude<TargetName, 'ceiling'>;

export type MailfleetStatus =
  { readonly runnable: true } | { readonly runnable: false; readonly reason: string };

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly runs: Partial<Record<TargetName, readonly RunFigures[]>>;
}

export type BacklogOutcome = BacklogFigures | { readonly notMeasured: string };

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly loadAverageAtEnd: readonly number[];
  readonly plan: BenchPlan;
  readonly mailfleet: MailfleetStatus;
  readonly scenarios: readonly ScenarioResult[];
  readonly idleSessions: Partial<Record<RelayName, IdleSessionsFigures>>;
  readonly backlog: Partial<Record<RelayName, BacklogOutcome>>;
}

const mebibyte = 1024 * 1024;

export function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '—' : value.toFixed(digits);
}

export function loadAverages(averages: readonly number[]): string {
  return averages.map((average) => average.toFixed(2)).join(' / ');
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), row(header.map((_, index) => (index === 0 ? '---' : '---:'))), ...rows.map(row)];
}

interface ScenarioMedians {
  readonly acceptedPerSecond: number | undefined;
  readonly deliveredPerSecond: number | undefined;
  readonly sendSeconds: number | undefined;
  readonly drainSeconds: number | undefined;
  readonly latencyP50Ms: number | undefined;
  readonly latencyP99Ms: number | undefined;
  readonly cpuSeconds: number | undefined;
  readonly cpuMillisecondsPerMessage: number | undefined;
  readonly peakRssMiB: number | undefined;
  readonly peakPssMiB: number | undefined;
  readonly accepted: number;
  readonly delivered: number;
  readonly failures: number;
  readonly runs: number;
}

export function scenarioMedians(runs: readonly RunFigures[]): ScenarioMedians {
  const of = (pick: (run: RunFigures) => number | undefined): number | undefined => median(runs.map(pick));
  return {
    acceptedPerSecond: of((run) => run.acceptedPerSecond),
    deliveredPerSecond: of((run) => run.deliveredPerSecond),
    sendSeconds: of((run) => run.sendSeconds),
    drainSeconds: of((run) => run.endToEndSeconds - run.sendSeconds),
    latencyP50Ms: of((run) => run.latencyP50Ms),
    latencyP99Ms: of((run) => run.latencyP99Ms),
    cpuSeconds: of((run) => run.cpuSeconds),
    cpuMillisecondsPerMessage: of((run) =>
      run.cpuSeconds === undefined || run.accepted === 0 ? undefined : (run.cpuSeconds * 1000) / run.accepted,
    ),
    peakRssMiB: of((run) =>
      run.peakMemory === undefined ? undefined : run.peakMemory.peakRssBytes / mebibyte,
    ),
    peakPssMiB: of((run) =>
      run.peakMemory === undefined ? undefined : run.peakMemory.peakPssBytes / mebibyte,
    ),
    accepted: runs.reduce((sum, run) => sum + run.accepted, 0),
    delivered: runs.reduce((sum, run) => sum + run.delivered, 0),
    failures: runs.reduce((sum, run) => sum + run.failures.length, 0),
    runs: runs.length,
  };
}

const targetLabels: Record<TargetName, string> = {
  ceiling: 'ceiling (smtp-source → smtp-sink)',
  postfix: 'Postfix',
  mailfleet: 'mailfleet',
};

function targetLabel(name: TargetName, scenario: Scenario): string {
  return name === 'ceiling' && scenario.driver === 'clients'
    ? 'ceiling (Node clients → smtp-server: STARTTLS + AUTH, nothing stored)'
    : targetLabels[name];
}

function driverText(scenario: Scenario): string {
  if (scenario.driver === 'probe') return 'the probe alone';
  if (scenario.driver === 'clients') {
    return `${scenario.sessions} Node clients side by side (bench/smtp-probe.ts), each doing STARTTLS and AUTH PLAIN on every connection`;
  }
  return `smtp-source -s ${scenario.sessions}`;
}

export function renderScenario(result: ScenarioResult): string[] {
  const { scenario } = result;
  const medians = new Map<TargetName, ScenarioMedians>();
  for (const [name, runs] of Object.entries(result.runs) as [TargetName, readonly RunFigures[]][]) {
    if (runs.length > 0) medians.set(name, scenarioMedians(runs));
  }
  const rows = [...medians].map(([name, figures]) => [
    targetLabel(name, scenario),
    fixed(figures.acceptedPerSecond, 0),
    fixed(figures.deliveredPerSecond, 0),
    fixed(figures.sendSeconds, 2),
    fixed(figures.drainSeconds, 2),
    fixed(figures.latencyP50Ms, 1),
    fixed(figures.latencyP99Ms, 1),
    fixed(figures.cpuSeconds, 2),
    fixed(figures.cpuMillisecondsPerMessage, 2),
    fixed(figures.peakRssMiB, 1),
    fixed(figures.peakPssMiB, 1),
    `${figures.delivered} / ${figures.accepted} in ${figures.runs} runs` +
      (figures.failures > 0 ? ` (${figures.failures} failures; repeats stop after one)` : ''),
  ]);
  const mailfleet = medians.get('mailfleet');
  const postfix = medians.get('postfix');
  if (mailfleet !== undefined && postfix !== undefined) {
    const times = (value: number | undefined): string => (value === undefined ? '—' : `${value.toFixed(2)}×`);
    rows.push([
      '**mailfleet / Postfix**',
      times(ratio(mailfleet.acceptedPerSecond, postfix.acceptedPerSecond)),
      times(ratio(mailfleet.deliveredPerSecond, postfix.deliveredPerSecond)),
      times(ratio(mailfleet.sendSeconds, postfix.sendSeconds)),
      times(ratio(mailfleet.drainSeconds, postfix.drainSeconds)),
      times(ratio(mailfleet.latencyP50Ms, postfix.latencyP50Ms)),
      times(ratio(mailfleet.latencyP99Ms, postfix.latencyP99Ms)),
      times(ratio(mailfleet.cpuSeconds, postfix.cpuSeconds)),
      times(ratio(mailfleet.cpuMillisecondsPerMessage, postfix.cpuMillisecondsPerMessage)),
      times(ratio(mailfleet.peakRssMiB, postfix.peakRssMiB)),
      times(ratio(mailfleet.peakPssMiB, postfix.peakPssMiB)),
      '',
    ]);
  }
  const sessions = driverText(scenario);
  return [
    `### ${scenario.title}`,
    '',
    `${scenario.messages} messages of ${scenario.payloadBytes} bytes payload per run, driven by ${sessions}` +
      `${scenario.reuseConnections ? ' reusing connections' : ''}.`,
    '',
    ...table(
      [
        'relay',
        'accepted msg/s',
        'delivered msg/s (end to end)',
        'send s',
        'drain s',
        'p50 ms to 250',
        'p99 ms to 250',
        'relay CPU s',
        'CPU ms/msg',
        'peak RSS MiB (sum)',
        'peak PSS MiB',
        'delivered / accepted (all runs)',
      ],
      rows,
    ),
    '',
    ...renderDkimSamples(result),
  ];
}

/** dkimpy's verdicts on each relay's sampled messages, all runs together. */
function renderDkimSamples(result: ScenarioResult): string[] {
  const verdicts = (['postfix', 'mailfleet'] as const).flatMap((name) => {
    const samples = (result.runs[name] ?? []).flatMap((run) => (run.dkim === undefined ? [] : [run.dkim]));
    if (samples.length === 0) return [];
    const sum = (pick: (sample: (typeof samples)[number]) => number): number =>
      samples.reduce((total, sample) => total + pick(sample), 0);
    return [
      `${targetLabels[name]} ${sum((sample) => sample.signaturesPassed)} of ${sum((sample) => sample.signaturesExpected)} signatures on ${sum((sample) => sample.messages)} messages`,
    ];
  });
  return verdicts.length === 0
    ? []
    : [
        `DKIM signatures that dkimpy verified on messages sampled from the sink in each run: ${verdicts.join('; ')}.`,
        '',
      ];
}

function renderIdle(idle: BenchReport['idleSessions']): string[] {
  const rows = (Object.entries(idle) as [RelayName, IdleSessionsFigures][]).map(([name, figures]) => [
    targetLabels[name],
    `${figures.opened} / ${figures.sessions}`,
    fixed(figures.rssBeforeBytes / mebibyte, 1),
    fixed(figures.rssWithSessionsBytes / mebibyte, 1),
    fixed(figures.pssBeforeBytes / mebibyte, 1),
    fixed(figures.pssWithSessionsBytes / mebibyte, 1),
    fixed(ratio(figures.pssWithSessionsBytes - figures.pssBeforeBytes, figures.opened * 1024), 1),
    String(figures.processesWithSessions),
  ]);
  if (rows.length === 0) return ['Not measured.', ''];
  return [
    ...table(
      [
        'relay',
        'sessions open',
        'RSS before MiB',
        'RSS with sessions MiB',
        'PSS before MiB',
        'PSS with sessions MiB',
        'PSS KiB per session',
        'processes',
      ],
      rows,
    ),
    '',
  ];
}

function renderBacklog(backlog: BenchReport['backlog']): string[] {
  const lines: string[] = [];
  const rows: string[][] = [];
  for (const [name, outcome] of Object.entries(backlog) as [RelayName, BacklogOutcome][]) {
    if ('notMeasured' in outcome) {
      lines.push(`- ${targetLabels[name]}: not measured — ${outcome.notMeasured}`);
      continue;
    }
    rows.push([
      targetLabels[name],
      outcome.backlogMessages < outcome.targetMessages
        ? `${outcome.backlogMessages} (fill time limit; target ${outcome.targetMessages})`
        : String(outcome.backlogMessages),
      fixed(outcome.acceptEmptyPerSecond, 0),
      fixed(outcome.acceptFillPerSecond, 0),
      fixed(outcome.acceptLoadedPerSecond, 0),
      `${outcome.delivered} / ${outcome.queued}`,
      fixed(outcome.drainSeconds, 1),
      fixed(outcome.drainPerSecond, 0),
      fixed(outcome.drainCpuSeconds, 1),
      outcome.failures.length === 0 ? 'none' : outcome.failures.join('; '),
    ]);
  }
  const rendered =
    rows.length === 0
      ? []
      : table(
          [
            'relay',
            'backlog before the last batch',
            'accept msg/s, empty queue',
            'accept msg/s, filling',
            'accept msg/s, on the backlog',
            'delivered / queued',
            'drain s',
            'drain msg/s',
            'drain CPU s',
            'failures',
          ],
          rows,
        );
  return [...rendered, ...(rendered.length > 0 && lines.length > 0 ? [''] : []), ...lines, ''];
}

export function judgedGoalsTable(report: BenchReport, goalList: readonly Goal[]): string[] {
  const scenario = (id: string): ScenarioResult | undefined =>
    report.scenarios.find((result) => result.scenario.id === id);
  const medianOf = (id: string, relay: TargetName): ScenarioMedians | undefined => {
    const runs = scenario(id)?.runs[relay];
    return runs === undefined || runs.length === 0 ? undefined : scenarioMedians(runs);
  };
  const judged = judgeGoals(
    {
      title: (id) => benchPlan(false).scenarios.find((known) => known.id === id)?.title ?? id,
      delivered: (id, relay) => medianOf(id, relay)?.deliveredPerSecond,
      cpuPerMessage: (id, relay) => medianOf(id, relay)?.cpuMillisecondsPerMessage,
      mailfleetP50Ms: (id) => medianOf(id, 'mailfleet')?.latencyP50Ms,
      mailfleetIdleRssBytes: report.idleSessions.mailfleet?.rssWithSessionsBytes,
    },
    goalList,
  );
  return table(
    ['goal', 'measured', 'met', 'CPU per message, Postfix ÷ mailfleet'],
    judged.map((goal) => [
      goal.goal,
      goal.measured,
      goal.met === undefined ? 'not measured' : goal.met ? 'yes' : '**no**',
      goal.cpuAdvantage === undefined ? '' : `${goal.cpuAdvantage.toFixed(2)}×`,
    ]),
  );
}

function renderGoals(report: BenchReport): string[] {
  return [
    '## Goals',
    '',
    "What the relay is built to reach, judged on this run. The last column is how many times more CPU a message costs Postfix than mailfleet: where the relay and the load generator share the machine's cores, the throughput ratio cannot go far past it ([where the time goes](performance.md)).",
    '',
    ...judgedGoalsTable(report, goals),
    '',
  ];
}

/** The whole docs/benchmarks.md; `realisticSection` is report-realistic.ts's part (main.ts joins them). */
export function renderBenchmarks(report: BenchReport, realisticSection: readonly string[] = []): string {
  const { machine, plan } = report;
  const mailfleetLine = report.mailfleet.runnable
    ? `mailfleet relay: measured at ${machine.commit}.`
    : `**mailfleet relay: not runnable at ${machine.commit}** (${report.mailfleet.reason}). Only Postfix and the machine's ceiling were measured; there are no mailfleet figures and no ratios.`;
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/main.ts (`make bench`); every number below comes from the run described here. Do not edit by hand. -->',
    '',
    mailfleetLine,
    '',
    `Run${plan.quick ? ' (QUICK smoke run: small counts, one repetition — not for comparison)' : ''}: \`${report.command}\`, started ${report.startedAt}, took ${fixed(report.durationSeconds / 60, 1)} min. Each figure is the median of ${plan.repeats} run(s) of the scenario; the relays are measured in turn within each repetition.`,
    '',
    '## Machine',
    '',
    `A load average well above ${machine.processors} means other work shared the machine during the run and every figure is lower (and noisier) than on an idle machine; the relays are measured in turn within each repetition so they share that noise.`,
    '',
    ...table(
      ['', 'value'],
      [
        ['processors (nproc)', String(machine.processors)],
        ['CPU', machine.cpuModel],
        ['memory', `${fixed(machine.memoryBytes / 1024 ** 3, 1)} GiB`],
        ['kernel', machine.kernel],
        ['node', machine.nodeVersion],
        ['postfix', machine.postfixVersion],
        ['commit', machine.commit],
        [
          'load average (1/5/15 min) at start → end',
          `${loadAverages(machine.loadAverageAtStart)} → ${loadAverages(report.loadAverageAtEnd)}`,
        ],
      ],
    ),
    '',
    ...renderGoals(report),
    '## Throughput, latency, CPU and memory per scenario',
    '',
    ...report.scenarios.filter((result) => result.scenario.security === undefined).flatMap(renderScenario),
    ...realisticSection,
    `## Memory with ${plan.idleSessions} concurrent idle sessions`,
    '',
    'Measured on relays started just for it (after the load runs a grown heap would hide the cost). Each session has read the banner and had its EHLO answered, then stays idle.',
    '',
    ...renderIdle(report.idleSessions),
    `## A queue of ${plan.backlogMessages} messages`,
    '',
    `Accept rate (2 KB, 20 sessions reusing connections) for ${plan.backlogProbeMessages} messages on an empty queue, while filling the queue to ${plan.backlogMessages} (filling stops after ${plan.backlogFillSeconds} s to keep the run bounded; the table says when it did), and for ${plan.backlogProbeMessages} more on top of it; then the rate at which all of it drains to the sink once delivery is let go (waiting at most ${plan.backlogDrainSeconds} s). The queue's cost must not grow with its length: the two accept rates should match.`,
    '',
    ...renderBacklog(report.backlog),
    '## Running it',
    '',
    '- `make bench` — the full run (about 10–20 minutes), rewrites this file. `BENCH_QUICK=1 make bench` — a smoke run with small counts (under a minute on an idle machine; its figures are not for comparison). `BENCH_OUTPUT=<file>` writes elsewhere. `BENCH_SCENARIOS=new-connection-2k BENCH_REPEATS=15 BENCH_OUTPUT=<file> make bench` — only the scenarios named (ids: ' +
      benchPlan(false)
        .scenarios.map((scenario) => `\`${scenario.id}\``)
        .join(', ') +
      '), each repeated 15 times, without idle sessions and the backlog: a closer median for one goal on a noisy machine. `BENCH_SCENARIOS=realistic make bench` — only the realistic set (STARTTLS, AUTH and DKIM on both sides), rewriting only its section of this file.',
    '- mailfleet is measured when `node relay/main.ts --config <file>` starts, takes a plain message from 127.0.0.1 and delivers it to the sink (a one-message preflight); otherwise this file says why it was not, and shows no mailfleet figures.',
    "- `node --test 'test/integration/bench/*.test.ts'` checks the harness itself: one quick scenario through Postfix and through the bare sink with every accepted message delivered, Postfix stopped cleanly, and Postfix's fsync per message.",
    '',
    '## Method',
    '',
    `- Before the first scenario each relay (and the ceiling) takes ${report.plan.warmUp.messages} messages of the first scenario that are not counted: Postfix forks its smtpd, cleanup and smtp processes, mailfleet's JIT compiles its hot paths. Every later figure is from relays already running at full speed, as a relay in service is.`,
    '- Everything runs on loopback. Each relay delivers to its own Postfix `smtp-sink` (`-c` counters), which counts the messages it receives; "delivered" is that count. The ceiling is `smtp-source` straight into `smtp-sink`: the most this machine moves through the same client and sink.',
    '- Load comes from Postfix `smtp-source` (`-s` sessions, `-m` messages, `-l` payload bytes, `-d` to reuse a connection, `-N` for a distinct recipient per message). "Send s" is the time until smtp-source has had every message accepted; "drain s" is the further time until the sink has counted every accepted message. Accepted msg/s = accepted / send s; delivered msg/s = delivered / (send s + drain s).',
    '- Latency: smtp-source reports no per-message times, so bench/smtp-probe.ts, a small Node client, times each transaction from its start (TCP connect, or MAIL on a reused connection) to the 250 after the final dot. It is the whole load in the serial scenario and one extra serial client next to smtp-source in the others. Its messages are counted in accepted and delivered.',
    "- Relay CPU seconds: utime + stime + cutime + cstime from /proc/<pid>/stat, summed over the relay's process tree (Postfix: the master and every daemon it forked — smtpd, cleanup, trivial-rewrite, qmgr, smtp, anvil, …; mailfleet: the node process and any child), read before and after the run. A daemon that exits during the run moves its CPU time into its parent's cutime/cstime once reaped, so the difference is the tree's CPU use. The client and the sink are not counted.",
    '- Memory: the tree is sampled every 250 ms from /proc/<pid>/smaps_rollup. "RSS (sum)" adds each process\'s RSS and so counts shared pages once per process (it overstates multi-process Postfix); PSS shares them out and is the fairer comparison.',
    "- Durability is the same on both sides: Postfix's cleanup fsync()s each queue file before smtpd answers 250 (its default; cleanup marks each queue file complete with `fchmod(fd, 0700)` and then calls `fsync(fd)`; test/integration/bench/postfix-durability.test.ts counts one fsync per accepted message with strace on the running daemons. No setting turns it off and none is changed). mailfleet answers 250 only after the message and its envelope are on disk and fdatasync'd: a message up to 256 KiB is one record appended to its segment log, and one fdatasync covers every message appended while the previous one ran (group commit, docs/queue.md); a larger one is a file of its own, fdatasync'd and renamed, its directory fsync'd.",
    "- Postfix runs from a private config_directory and queue_directory under a temp dir (`postfix -c <dir> start`), listening on 127.0.0.1 only, `mynetworks = 127.0.0.0/8`, `relayhost = [127.0.0.1]:<sink port>`, no TLS, no DNS (`smtp_dns_support_level = disabled`, `smtp_host_lookup = native`), per-client connection limits off (every client is 127.0.0.1), nothing chrooted, and otherwise Debian's defaults — including `in_flow_delay = 1s`, which paces smtpd when arrivals outrun deliveries and shows in its p99. For the backlog it holds every message (`check_client_access static:HOLD`, `in_flow_delay = 0`) and releases them with `postsuper -H ALL` + `postqueue -f`. It is stopped by signalling its own master pid.",
    '- mailfleet runs as `node relay/main.ts --config <file>` (its own config format, bench/mailfleet-config.ts) with a spool under a temp dir, listening on 127.0.0.1, relaying for 127.0.0.0/8, delivering to the sink as its smarthost without TLS, 20 connections per destination like Postfix, per-client limits out of the way and no pre-greeting pause (Postfix runs without postscreen). mailfleet has no hold queue, so for the backlog it fills with one delivery at a time stalled on a next hop that never greets (everything else stays queued), then is stopped and started again over the same spool with the sink as next hop: its drain includes the restart and the recovery scan of the spool.',
    '',
  ].join('\n');
}
