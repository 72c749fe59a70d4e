// The performance goals the relay is built to (issue 6), judged from one run's figures (pure). Each
// goal says what was measured and whether it is met; a goal without figures is "not measured",
// never met by default. The figures come from report.ts; nothing here is typed in by hand.
import { realisticScenarios } from './realistic.ts';

export interface ThroughputGoal {
  readonly kind: 'throughput';
  readonly scenarioId: string;
  /** End-to-end delivered msg/s, mailfleet ÷ Postfix, at least this. */
  readonly atLeastTimesPostfix: number;
}

export type Goal =
  | ThroughputGoal
  | { readonly kind: 'serial-p50'; readonly scenarioId: string; readonly underMs: number }
  | { readonly kind: 'idle-rss'; readonly underBytes: number };

export const goals: readonly Goal[] = [
  { kind: 'throughput', scenarioId: 'new-connection-2k', atLeastTimesPostfix: 3 },
  { kind: 'throughput', scenarioId: 'reused-connection-2k', atLeastTimesPostfix: 3 },
  { kind: 'throughput', scenarioId: 'fifty-sessions-5k', atLeastTimesPostfix: 3 },
  { kind: 'throughput', scenarioId: 'large-100k', atLeastTimesPostfix: 2 },
  { kind: 'serial-p50', scenarioId: 'serial-latency-2k', underMs: 5 },
  { kind: 'idle-rss', underBytes: 150e6 },
];

/** The realistic set (issue 17): STARTTLS, AUTH and DKIM on both sides, each at least 2× Postfix. */
export const realisticGoals: readonly Goal[] = realisticScenarios.map((scenario) => ({
  kind: 'throughput',
  scenarioId: scenario.id,
  atLeastTimesPostfix: 2,
}));

/** The figures the goals are judged on; undefined where the run did not measure one. */
export interface GoalFigures {
  readonly title: (scenarioId: string) => string;
  /** End-to-end delivered msg/s of a relay in a scenario (median). */
  readonly delivered: (scenarioId: string, relay: 'postfix' | 'mailfleet') => number | undefined;
  /** Relay CPU ms per message of a relay in a scenario (median). */
  readonly cpuPerMessage: (scenarioId: string, relay: 'postfix' | 'mailfleet') => number | undefined;
  readonly mailfleetP50Ms: (scenarioId: string) => number | undefined;
  readonly mailfleetIdleRssBytes: number | undefined;
}

export interface JudgedGoal {
  readonly goal: string;
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
  /** For throughput: Postfix's CPU per message ÷ mailfleet's (how much less CPU a message costs). */
  readonly cpuAdvantage?: number;
}

function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function judgeGoals(figures: GoalFigures, judged: readonly Goal[] = goals): JudgedGoal[] {
  return judged.map((goal): JudgedGoal => {
    if (goal.kind === 'throughput') {
      const postfix = figures.delivered(goal.scenarioId, 'postfix');
      const mailfleet = figures.delivered(goal.scenarioId, 'mailfleet');
      const ratio = postfix && mailfleet !== undefined ? mailfleet / postfix : undefined;
      const postfixCpu = figures.cpuPerMessage(goal.scenarioId, 'postfix');
      const mailfleetCpu = figures.cpuPerMessage(goal.scenarioId, 'mailfleet');
      const cpuAdvantage = postfixCpu !== undefined && mailfleetCpu ? postfixCpu / mailfleetCpu : undefined;
      return {
        goal: `${figures.title(goal.scenarioId)}: delivered msg/s at least ${goal.atLeastTimesPostfix}× Postfix's`,
        measured: ratio === undefined ? 'not measured' : times(ratio),
        met: ratio === undefined ? undefined : ratio >= goal.atLeastTimesPostfix,
        ...(cpuAdvantage === undefined ? {} : { cpuAdvantage }),
      };
    }
    if (goal.kind === 'serial-p50') {
      const p50 = figures.mailfleetP50Ms(goal.scenarioId);
      return {
        goal: `${figures.title(goal.scenarioId)}: p50 to the 250 under ${goal.underMs} ms`,
        measured: p50 === undefined ? 'not measured' : `${p50.toFixed(1)} ms`,
        met: p50 === undefined ? undefined : p50 < goal.underMs,
      };
    }
    const rss = figures.mailfleetIdleRssBytes;
    return {
      goal: `1,000 idle sessions: RSS under ${(goal.underBytes / 1e6).toFixed(0)} MB`,
      measured: rss === undefined ? 'not measured' : `${(rss / 1e6).toFixed(1)} MB`,
      met: rss === undefined ? undefined : rss < goal.underBytes,
    };
  });
}
