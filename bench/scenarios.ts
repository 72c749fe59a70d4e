// The benchmark scenarios and how big each is in a full and in a quick (smoke) run (pure).
import type { Scenario } from './scenario.ts';
import { realisticGroup, realisticScenarios } from './realistic.ts';

export type { Scenario } from './scenario.ts';

const fullScenarios: readonly Scenario[] = [
  {
    id: 'new-connection-2k',
    title: '2 KB, 20 sessions, new connection per message',
    payloadBytes: 2048,
    sessions: 20,
    messages: 3000,
    reuseConnections: false,
    driver: 'smtp-source',
  },
  {
    id: 'reused-connection-2k',
    title: '2 KB, 20 sessions, connection reused',
    payloadBytes: 2048,
    sessions: 20,
    messages: 3000,
    reuseConnections: true,
    driver: 'smtp-source',
  },
  {
    id: 'fifty-sessions-5k',
    title: '5 KB, 50 sessions, new connection per message',
    payloadBytes: 5120,
    sessions: 50,
    messages: 3000,
    reuseConnections: false,
    driver: 'smtp-source',
  },
  {
    id: 'large-100k',
    title: '100 KB, 20 sessions, new connection per message',
    payloadBytes: 102_400,
    sessions: 20,
    messages: 600,
    reuseConnections: false,
    driver: 'smtp-source',
  },
  {
    id: 'serial-latency-2k',
    title: '2 KB, one serial client (latency), new connection per message',
    payloadBytes: 2048,
    sessions: 1,
    messages: 300,
    reuseConnections: false,
    driver: 'probe',
  },
  ...realisticScenarios,
];

export interface BenchPlan {
  readonly quick: boolean;
  /** Only some scenarios, without idle sessions and the backlog (BENCH_SCENARIOS). */
  readonly focused: boolean;
  readonly repeats: number;
  /** Repeats of each realistic scenario (as many as the others since logins are remembered). */
  readonly realisticRepeats: number;
  /**
   * Run once through every relay before the first scenario and not counted: Postfix forks its
   * smtpd, cleanup and smtp processes, mailfleet's JIT compiles its hot paths.
   */
  readonly warmUp: Scenario;
  /** The same for the relays of the realistic set (they are other instances). */
  readonly realisticWarmUp: Scenario;
  readonly scenarios: readonly Scenario[];
  readonly idleSessions: number;
  readonly backlogMessages: number;
  /** Messages accepted (timed) on an empty queue and again on top of the backlog. */
  readonly backlogProbeMessages: number;
  /** Filling the backlog stops here even if it is smaller than backlogMessages (keeps the run bounded on a slow machine). */
  readonly backlogFillSeconds: number;
  /** Longest wait for the backlog to drain. */
  readonly backlogDrainSeconds: number;
}

function warmUpOf(messages: number, first: Scenario | undefined = fullScenarios[0]): Scenario {
  if (first === undefined) throw new Error('no scenarios');
  return { ...first, id: 'warm-up', title: `warm-up: ${first.title}`, messages };
}

function realisticWarmUpOf(messages: number): Scenario {
  return warmUpOf(
    messages,
    realisticScenarios.find((scenario) => scenario.reuseConnections),
  );
}

/** BENCH_SCENARIOS names scenario ids, or `realistic` for the whole realistic set. */
function expandGroups(scenarioIds: readonly string[]): string[] {
  return scenarioIds.flatMap((id) =>
    id === realisticGroup ? realisticScenarios.map((scenario) => scenario.id) : [id],
  );
}

/** Narrows a plan to some scenarios, more or fewer repeats (BENCH_SCENARIOS, BENCH_REPEATS); pure. */
export function focusPlan(
  plan: BenchPlan,
  scenarioIds: readonly string[] | undefined,
  repeats: number | undefined,
): BenchPlan {
  const ids = scenarioIds === undefined ? undefined : expandGroups(scenarioIds);
  const unknown = (ids ?? []).filter((id) => !plan.scenarios.some((scenario) => scenario.id === id));
  if (unknown.length > 0) {
    const known = plan.scenarios.map((scenario) => scenario.id).join(', ');
    throw new Error(
      `BENCH_SCENARIOS: no scenario ${unknown.join(', ')} (there are: ${known}, and ${realisticGroup} for the realistic set)`,
    );
  }
  if (repeats !== undefined && !(Number.isInteger(repeats) && repeats >= 1)) {
    throw new Error(`BENCH_REPEATS: expected a whole number of at least 1, got ${String(repeats)}`);
  }
  return {
    ...plan,
    ...(repeats === undefined ? {} : { repeats, realisticRepeats: repeats }),
    ...(ids === undefined
      ? {}
      : { focused: true, scenarios: plan.scenarios.filter((scenario) => ids.includes(scenario.id)) }),
  };
}

export function benchPlan(quick: boolean): BenchPlan {
  if (!quick) {
    return {
      quick,
      focused: false,
      repeats: 5,
      realisticRepeats: 5,
      warmUp: warmUpOf(5000),
      realisticWarmUp: realisticWarmUpOf(400),
      scenarios: fullScenarios,
      idleSessions: 1000,
      backlogMessages: 100_000,
      backlogProbeMessages: 5000,
      backlogFillSeconds: 150,
      backlogDrainSeconds: 300,
    };
  }
  return {
    quick,
    focused: false,
    repeats: 1,
    realisticRepeats: 1,
    warmUp: warmUpOf(50),
    realisticWarmUp: realisticWarmUpOf(20),
    scenarios: fullScenarios.map((scenario) => ({
      ...scenario,
      // A smoke run: a twelfth of each load, at least 10 messages with TLS + AUTH, 50 without.
      messages: Math.max(scenario.security === undefined ? 50 : 10, Math.round(scenario.messages / 12)),
    })),
    idleSessions: 100,
    backlogMessages: 2000,
    backlogProbeMessages: 200,
    backlogFillSeconds: 30,
    backlogDrainSeconds: 60,
  };
}
