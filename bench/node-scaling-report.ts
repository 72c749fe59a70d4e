// `make bench-node` figures (pure): runs in, per load and replica count a row out, and the markdown
// table that bench/node-scaling.ts writes next to its JSON.
import { median, ratio } from './stats.ts';

export const nodeLoads = {
  'new-connection': 'a new connection per message',
  reused: 'connections reused (smtp-source -d)',
} as const;
export type NodeLoad = keyof typeof nodeLoads;

/** One timed run of the load pod against the relay Service. */
export interface NodeRun {
  readonly load: NodeLoad;
  readonly replicas: number;
  readonly messages: number;
  readonly sessions: number;
  readonly bytes: number;
  readonly sendSeconds: number;
  readonly deliveredSeconds: number;
  /** What the sink counted: every message of the run when the run completed. */
  readonly delivered: number;
  /** CPU of every relay pod together during the run (their cgroups), seconds. */
  readonly relayCpuSeconds: number;
  /** Time the relay pods' CPU limit held them back during the run (cgroup throttled_time, all pods), seconds. */
  readonly relayThrottledSeconds: number;
  /** CPU of the load pod (smtp-source and smtp-sink) during the run, seconds. */
  readonly loadPodCpuSeconds: number;
  /** Share of the machine's CPU time that was idle during the run (0..1). */
  readonly machineIdle: number;
}

export interface NodeRow {
  readonly load: NodeLoad;
  readonly replicas: number;
  readonly runs: number;
  readonly complete: number;
  readonly deliveredPerSecond: { readonly median: number; readonly min: number; readonly max: number };
  readonly acceptedPerSecond: number;
  readonly relayCpuMsPerMessage: number;
  readonly loadPodCpuMsPerMessage: number;
  /** Median share of a run's time the relay pods were throttled by their CPU limit (summed over pods). */
  readonly throttledShare: number;
  readonly machineIdle: number;
  /** Median delivered msg/s ÷ the same load's median with one replica. */
  readonly versusOneReplica: number | undefined;
}

const orNaN = (value: number | undefined): number => value ?? Number.NaN;

/** Rows by load then replica count; only complete runs (every message delivered) give rates. */
export function summariseNodeRuns(runs: readonly NodeRun[]): NodeRow[] {
  const groups = new Map<string, NodeRun[]>();
  for (const run of runs) {
    const key = `${run.load}/${String(run.replicas)}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows = [...groups.values()].map((group): Omit<NodeRow, 'versusOneReplica'> => {
    const [first] = group as [NodeRun, ...NodeRun[]];
    const complete = group.filter((run) => run.delivered >= run.messages);
    const delivered = complete.map((run) => run.messages / run.deliveredSeconds);
    const perMessage = (seconds: (run: NodeRun) => number) =>
      orNaN(median(complete.map((run) => (1000 * seconds(run)) / run.messages)));
    return {
      load: first.load,
      replicas: first.replicas,
      runs: group.length,
      complete: complete.length,
      deliveredPerSecond: {
        median: orNaN(median(delivered)),
        min: delivered.length > 0 ? Math.min(...delivered) : Number.NaN,
        max: delivered.length > 0 ? Math.max(...delivered) : Number.NaN,
      },
      acceptedPerSecond: orNaN(median(complete.map((run) => run.messages / run.sendSeconds))),
      relayCpuMsPerMessage: perMessage((run) => run.relayCpuSeconds),
      loadPodCpuMsPerMessage: perMessage((run) => run.loadPodCpuSeconds),
      throttledShare: orNaN(median(complete.map((run) => run.relayThrottledSeconds / run.deliveredSeconds))),
      machineIdle: orNaN(median(complete.map((run) => run.machineIdle))),
    };
  });
  const loadOrder = Object.keys(nodeLoads);
  return rows
    .map((row) => {
      const single = rows.find((other) => other.load === row.load && other.replicas === 1);
      const versus = ratio(row.deliveredPerSecond.median, single?.deliveredPerSecond.median);
      return {
        ...row,
        versusOneReplica: versus !== undefined && Number.isFinite(versus) ? versus : undefined,
      };
    })
    .sort((a, b) => loadOrder.indexOf(a.load) - loadOrder.indexOf(b.load) || a.replicas - b.replicas);
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '—';

/** The markdown table of the rows. */
export function renderNodeTable(rows: readonly NodeRow[]): string {
  const header =
    '| load | replicas | delivered msg/s (median, min–max) | × one replica | accepted msg/s | relay CPU ms/msg (all pods) | relay pods throttled (share of the run) | load pod CPU ms/msg | machine idle | complete runs |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n';
  return (
    header +
    rows
      .map(
        (row) =>
          `| ${nodeLoads[row.load]} | ${String(row.replicas)} | ${fixed(row.deliveredPerSecond.median, 0)} (${fixed(row.deliveredPerSecond.min, 0)}–${fixed(row.deliveredPerSecond.max, 0)}) | ` +
          `${row.versusOneReplica === undefined ? '—' : `${row.versusOneReplica.toFixed(2)}×`} | ${fixed(row.acceptedPerSecond, 0)} | ` +
          `${fixed(row.relayCpuMsPerMessage, 2)} | ${fixed(100 * row.throttledShare, 0)}% | ${fixed(row.loadPodCpuMsPerMessage, 2)} | ${fixed(100 * row.machineIdle, 0)}% | ${String(row.complete)} of ${String(row.runs)} |`,
      )
      .join('\n') +
    '\n'
  );
}
