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

export function benchPlan(quick: boolean): BenchPlan {
  if (!quick) {
    return {
      quick,
      repeats: 5,
      warmUp: warmUpOf(2000),
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
