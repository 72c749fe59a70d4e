// The queue's cost must not grow with its length: accept rates on an empty queue and on top of a
// large backlog, then the rate at which the whole backlog drains once delivery is let go.
import { treeCpuSeconds } from './process-tree.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { runSmtpSource } from './smtp-source.ts';
import type { SourceLoad } from './smtp-source.ts';

export interface BacklogRelay {
  readonly port: number;
  readonly rootPid: number;
  /** Lets delivery of everything queued start (Postfix: release the hold queue). */
  release(): Promise<void>;
}

export interface BacklogFigures {
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

export async function measureBacklog(
  relay: BacklogRelay,
  sink: SmtpSink,
  backlogMessages: number,
  probeMessages: number,
): Promise<BacklogFigures> {
  const failures: string[] = [];
  const accept = async (messages: number): Promise<number> => {
    const load: SourceLoad = { sessions: 20, messages, payloadBytes: 2048, reuseConnections: true };
    const run = await runSmtpSource(load, relay.port);
    if (run.exitCode !== 0) failures.push(`smtp-source exited ${run.exitCode}: ${run.diagnostics}`);
    return messages / run.elapsedSeconds;
  };
  const deliveredBefore = sink.delivered();
  const acceptEmptyPerSecond = await accept(probeMessages);
  const acceptFillPerSecond = await accept(backlogMessages - probeMessages);
  const acceptLoadedPerSecond = await accept(probeMessages);
  const queued = backlogMessages + probeMessages;
  const cpuBefore = await treeCpuSeconds(relay.rootPid);
  const started = performance.now();
  await relay.release();
  const reached = await sink.waitForDelivered(deliveredBefore + queued, 600_000);
  const drainSeconds = (performance.now() - started) / 1000;
  const drainCpuSeconds = (await treeCpuSeconds(relay.rootPid)) - cpuBefore;
  const delivered = reached - deliveredBefore;
  if (delivered < queued) failures.push(`${queued - delivered} of ${queued} queued messages not delivered`);
  return {
    backlogMessages,
    acceptEmptyPerSecond,
    acceptFillPerSecond,
    acceptLoadedPerSecond,
    queued,
    delivered,
    drainSeconds,
    drainPerSecond: delivered / drainSeconds,
    drainCpuSeconds,
    failures,
  };
}
