// The queue's cost must not grow with its length: accept rates on an empty queue and on top of a
// large backlog, then the rate at which the whole backlog drains once delivery is let go.
import { treeCpuSeconds } from './process-tree.ts';
import type { BenchPlan } from './scenarios.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { runSmtpSource } from './smtp-source.ts';
import type { SourceLoad } from './smtp-source.ts';

export interface BacklogRelay {
  readonly port: number;
  readonly rootPid: number;
  /**
   * Lets delivery of everything queued start (Postfix: release the hold queue; mailfleet: restart
   * over the same spool with the sink as next hop). Resolves with the root pid of the process tree
   * that drains, whose CPU is accounted to the drain.
   */
  release(): Promise<number>;
}

export interface BacklogFigures {
  readonly targetMessages: number;
  /** Messages queued before the timed batch on top: below the target when filling hit its time limit. */
  readonly backlogMessages: number;
  readonly acceptEmptyPerSecond: number;
  readonly acceptFillPerSecond: number;
  readonly acceptLoadedPerSecond: number;
  readonly queued: number;
  readonly delivered: number;
  readonly drainSeconds: number;
  readonly drainPerSecond: number;
  readonly drainCpuSeconds: number;
  readonly failures: readonly string[];
}

const fillChunk = 5000;

export async function measureBacklog(
  relay: BacklogRelay,
  sink: SmtpSink,
  plan: Pick<
    BenchPlan,
    'backlogMessages' | 'backlogProbeMessages' | 'backlogFillSeconds' | 'backlogDrainSeconds'
  >,
): Promise<BacklogFigures> {
  const failures: string[] = [];
  const accept = async (messages: number): Promise<{ accepted: number; seconds: number }> => {
    const load: SourceLoad = { sessions: 20, messages, payloadBytes: 2048, reuseConnections: true };
    const run = await runSmtpSource(load, relay.port);
    if (run.exitCode === 0) return { accepted: messages, seconds: run.elapsedSeconds };
    failures.push(`smtp-source exited ${run.exitCode}: ${run.diagnostics}`);
    return { accepted: 0, seconds: run.elapsedSeconds };
  };
  const deliveredBefore = sink.delivered();
  const empty = await accept(plan.backlogProbeMessages);
  let backlogMessages = empty.accepted;
  let fillSeconds = 0;
  while (
    backlogMessages < plan.backlogMessages &&
    fillSeconds < plan.backlogFillSeconds &&
    failures.length === 0
  ) {
    const chunk = await accept(Math.min(fillChunk, plan.backlogMessages - backlogMessages));
    backlogMessages += chunk.accepted;
    fillSeconds += chunk.seconds;
  }
  const loaded = await accept(plan.backlogProbeMessages);
  const queued = backlogMessages + loaded.accepted;
  const cpuBefore = await treeCpuSeconds(relay.rootPid);
  const started = performance.now();
  const drainingPid = await relay.release();
  const reached = await sink.waitForDelivered(deliveredBefore + queued, plan.backlogDrainSeconds * 1000);
  const drainSeconds = (performance.now() - started) / 1000;
  // A restarted relay is a new process: all of its CPU (recovery included) belongs to the drain.
  const drainCpuSeconds =
    (await treeCpuSeconds(drainingPid)) - (drainingPid === relay.rootPid ? cpuBefore : 0);
  const delivered = reached - deliveredBefore;
  if (delivered < queued)
    failures.push(
      `${queued - delivered} of ${queued} queued messages not delivered within ${plan.backlogDrainSeconds} s`,
    );
  return {
    targetMessages: plan.backlogMessages,
    backlogMessages,
    acceptEmptyPerSecond: empty.accepted / empty.seconds,
    acceptFillPerSecond: (backlogMessages - empty.accepted) / Math.max(fillSeconds, Number.EPSILON),
    acceptLoadedPerSecond: loaded.accepted / loaded.seconds,
    queued,
    delivered,
    drainSeconds,
    drainPerSecond: delivered / drainSeconds,
    drainCpuSeconds,
    failures,
  };
}
