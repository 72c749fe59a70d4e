// The benchmark scenarios and how big each is in a full and in a quick (smoke) run (pure).

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly payloadBytes: number;
  readonly sessions: number;
  readonly messages: number;
  readonly reuseConnections: boolean;
  /** smtp-source drives the load (the probe samples latency alongside), or the probe alone is the one serial client. */
  readonly driver: 'smtp-source' | 'probe';
}

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
];

export interface BenchPlan {
  readonly quick: boolean;
  /** Only some scenarios, without idle sessions and the backlog (BENCH_SCENARIOS). */
  readonly focused: boolean;
  readonly repeats: number;
  /**
   * Run once through every relay before the first scenario and not counted: Postfix forks its
   * smtpd, cleanup and smtp processes, mailfleet's JIT compiles its hot paths.
   */
  readonly warmUp: Scenario;
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

function warmUpOf(messages: number): Scenario {
  const [first] = fullScenarios;
  if (first === undefined) throw new Error('no scenarios');
  return { ...first, id: 'warm-up', title: `warm-up: ${first.title}`, messages };
}

/** Narrows a plan to some scenarios, more or fewer repeats (BENCH_SCENARIOS, BENCH_REPEATS); pure. */
export function focusPlan(
  plan: BenchPlan,
  scenarioIds: readonly string[] | undefined,
  repeats: number | undefined,
): BenchPlan {
  const unknown = (scenarioIds ?? []).filter((id) => !plan.scenarios.some((scenario) => scenario.id === id));
  if (unknown.length > 0) {
    const known = plan.scenarios.map((scenario) => scenario.id).join(', ');
    throw new Error(`BENCH_SCENARIOS: no scenario ${unknown.join(', ')} (there are: ${known})`);
  }
  if (repeats !== undefined && !(Number.isInteger(repeats) && repeats >= 1)) {
    throw new Error(`BENCH_REPEATS: expected a whole number of at least 1, got ${String(repeats)}`);
  }
  return {
    ...plan,
    ...(repeats === undefined ? {} : { repeats }),
    ...(scenarioIds === undefined
      ? {}
      : { focused: true, scenarios: plan.scenarios.filter((scenario) => scenarioIds.includes(scenario.id)) }),
  };
}

export function benchPlan(quick: boolean): BenchPlan {
  if (!quick) {
    return {
      quick,
      focused: false,
      repeats: 5,
      warmUp: warmUpOf(5000),
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
    warmUp: warmUpOf(50),
    scenarios: fullScenarios.map((scenario) => ({
      ...scenario,
      messages: Math.max(50, Math.round(scenario.messages / 12)),
    })),
    idleSessions: 100,
    backlogMessages: 2000,
    backlogProbeMessages: 200,
    backlogFillSeconds: 30,
    backlogDrainSeconds: 60,
  };
}
