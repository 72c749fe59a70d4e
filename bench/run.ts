// Runs the whole plan: the ceiling, Postfix and (when it runs) mailfleet through every scenario,
// then idle sessions and the backlog; stops everything it started, whatever happens.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BacklogRelay } from './backlog.ts';
import { startBlackHole } from './black-hole.ts';
import { measureBacklog } from './backlog.ts';
import { measureIdleSessions } from './idle-sessions.ts';
import type { MachineInfo } from './machine.ts';
import { RelayNotRunnable, startMailfleet } from './mailfleet.ts';
import type { RelayUnderTest, RunFigures, TargetName } from './measure.ts';
import { runScenarioOnce } from './measure.ts';
import { startPostfix } from './postfix.ts';
import { startRealisticTargets } from './realistic-targets.ts';
import { runProbe } from './smtp-probe.ts';
import type { BacklogOutcome, BenchReport, MailfleetStatus, RelayName, ScenarioResult } from './report.ts';
import type { BenchPlan } from './scenarios.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { startSmtpSink } from './smtp-sink.ts';
import type { Cleanups } from './cleanups.ts';

export type Progress = (message: string) => void;

/** Stops what was started, newest first; each stop runs once even when several paths ask for it. */
export { Cleanups } from './cleanups.ts';

interface Started {
  readonly relay: RelayUnderTest;
  readonly sink: SmtpSink;
}

async function startSink(cleanups: Cleanups): Promise<SmtpSink> {
  const sink = await startSmtpSink();
  cleanups.add(() => sink.stop());
  return sink;
}

/** Why the relay cannot be benchmarked end to end, or undefined when one message goes through. */
async function preflightFailure(port: number, sink: SmtpSink): Promise<string | undefined> {
  const before = sink.delivered();
  const probe = await runProbe({ port, payloadBytes: 2048, reuseConnection: false, maxMessages: 1 });
  if (probe.accepted === 0) return `it refuses a plain message from 127.0.0.1: ${probe.failures.join('; ')}`;
  const reached = await sink.waitForDelivered(before + 1, preflightDeliverySeconds * 1000);
  return reached > before
    ? undefined
    : `it accepts a message but delivers none to the sink within ${preflightDeliverySeconds} s`;
}

const preflightDeliverySeconds = 20;

async function startMailfleetOrExplain(
  cleanups: Cleanups,
  sink: SmtpSink,
): Promise<{ status: MailfleetStatus; started?: Started; stop?: () => Promise<void> }> {
  try {
    const relay = await startMailfleet({ nextHopPort: sink.port });
    const stop = cleanups.add(() => relay.stop());
    const failure = await preflightFailure(relay.port, sink);
    if (failure !== undefined) {
      await stop();
      return { status: { runnable: false, reason: failure } };
    }
    return {
      status: { runnable: true },
      started: { relay: { name: 'mailfleet', port: relay.port, rootPid: relay.pid }, sink },
      stop,
    };
  } catch (error) {
    if (error instanceof RelayNotRunnable) return { status: { runnable: false, reason: error.message } };
    throw error;
  }
}

async function postfixBacklog(plan: BenchPlan, cleanups: Cleanups): Promise<BacklogOutcome> {
  const sink = await startSink(cleanups);
  const postfix = await startPostfix({ nextHopPort: sink.port, holdEverything: true });
  const stop = cleanups.add(() => postfix.stop());
  const relay: BacklogRelay = {
    port: postfix.port,
    rootPid: postfix.masterPid,
    release: async () => {
      await postfix.releaseHeld();
      return postfix.masterPid;
    },
  };
  const figures = await measureBacklog(relay, sink, plan);
  await stop();
  await sink.stop();
  return figures;
}

export async function mailfleetBacklog(plan: BenchPlan, cleanups: Cleanups): Promise<BacklogOutcome> {
  const directory = await mkdtemp(join(tmpdir(), 'mailfleet-bench-backlog-'));
  cleanups.add(() => rm(directory, { recursive: true, force: true }));
  const blackHole = await startBlackHole();
  cleanups.add(() => blackHole.close());
  const sink = await startSink(cleanups);
  const filling = await startMailfleet({ nextHopPort: blackHole.port, directory, stalledDelivery: true });
  const stopFilling = cleanups.add(() => filling.stop());
  const relay: BacklogRelay = {
    port: filling.port,
    rootPid: filling.pid,
    release: async () => {
      await stopFilling();
      const draining = await startMailfleet({ nextHopPort: sink.port, directory });
      cleanups.add(() => draining.stop());
      return draining.pid;
    },
  };
  return measureBacklog(relay, sink, plan);
}

/**
 * Idle sessions on relays started just for it: after load runs a grown heap would hide their cost,
 * and a thousand lingering smtpd processes would weigh on the next measurement.
 */
async function idleSessionsOnFreshRelays(
  plan: BenchPlan,
  mailfleetStatus: MailfleetStatus,
  postfixSink: SmtpSink,
  mailfleetSink: SmtpSink,
  cleanups: Cleanups,
): Promise<BenchReport['idleSessions']> {
  const idle: BenchReport['idleSessions'] = {};
  const postfix = await startPostfix({ nextHopPort: postfixSink.port });
  const stopPostfix = cleanups.add(() => postfix.stop());
  idle.postfix = await measureIdleSessions(postfix.port, postfix.masterPid, plan.idleSessions);
  await stopPostfix();
  if (mailfleetStatus.runnable) {
    const relay = await startMailfleet({ nextHopPort: mailfleetSink.port });
    const stopRelay = cleanups.add(() => relay.stop());
    idle.mailfleet = await measureIdleSessions(relay.port, relay.pid, plan.idleSessions);
    await stopRelay();
  }
  return idle;
}

function notMeasuredBacklog(notMeasured: string): BenchReport['backlog'] {
  return { postfix: { notMeasured }, mailfleet: { notMeasured } };
}

async function bothBacklogs(
  plan: BenchPlan,
  mailfleet: { status: MailfleetStatus; stop?: () => Promise<void> },
  cleanups: Cleanups,
  progress: Progress,
): Promise<BenchReport['backlog']> {
  const backlog: Partial<Record<RelayName, BacklogOutcome>> = {};
  backlog.postfix = await postfixBacklog(plan, cleanups);
  progress('backlog postfix: done');
  if (mailfleet.status.runnable) {
    await mailfleet.stop?.();
    backlog.mailfleet = await mailfleetBacklog(plan, cleanups);
    progress('backlog mailfleet: done');
  } else {
    backlog.mailfleet = { notMeasured: 'the relay is not runnable' };
  }

  return backlog;
}

export interface BenchRun {
  readonly plan: BenchPlan;
  readonly machine: MachineInfo;
  readonly command: string;
  readonly progress: Progress;
}

export async function runBenchmarks(run: BenchRun, cleanups: Cleanups): Promise<BenchReport> {
  const { plan, progress } = run;
  const startedAt = new Date();
  const ceilingSink = await startSink(cleanups);
  const postfixSink = await startSink(cleanups);
  const postfix = await startPostfix({ nextHopPort: postfixSink.port });
  const stopPostfix = cleanups.add(() => postfix.stop());
  const mailfleetSink = await startSink(cleanups);
  const mailfleet = await startMailfleetOrExplain(cleanups, mailfleetSink);
  progress(
    mailfleet.status.runnable
      ? 'mailfleet relay: running'
      : `mailfleet relay: not runnable (${mailfleet.status.reason})`,
  );
  const targets: Started[] = [
    { relay: { name: 'ceiling', port: ceilingSink.port }, sink: ceilingSink },
    { relay: { name: 'postfix', port: postfix.port, rootPid: postfix.masterPid }, sink: postfixSink },
    ...(mailfleet.started === undefined ? [] : [mailfleet.started]),
  ];

  const idleSessions = plan.focused
    ? {}
    : await idleSessionsOnFreshRelays(plan, mailfleet.status, postfixSink, mailfleetSink, cleanups);
  progress(
    `idle sessions: ${JSON.stringify(Object.fromEntries(Object.entries(idleSessions).map(([name, idle]) => [name, idle.opened])))} open`,
  );

  const plainScenarios = plan.scenarios.filter((scenario) => scenario.security === undefined);
  const realisticTargets = plan.scenarios.some((scenario) => scenario.security !== undefined)
    ? await startRealisticTargets(cleanups, mailfleet.status.runnable)
    : undefined;
  const realisticRelays = [
    ...new Set(realisticTargets === undefined ? [] : Object.values(realisticTargets).flat()),
  ];
  const warmUps = [
    ...(plainScenarios.length > 0 ? targets.map((target) => ({ ...target, scenario: plan.warmUp })) : []),
    ...realisticRelays.map((target) => ({ ...target, scenario: plan.realisticWarmUp })),
  ];
  for (const { relay, sink, scenario } of warmUps) {
    const warm = await runScenarioOnce(relay, scenario, sink);
    progress(
      `${scenario.title} ${relay.name}: ${warm.deliveredPerSecond.toFixed(0)} delivered/s (not counted)` +
        (warm.failures.length > 0 ? `, failures: ${warm.failures.join('; ')}` : ''),
    );
  }

  const scenarios: ScenarioResult[] = [];
  for (const scenario of plan.scenarios) {
    const runs: Partial<Record<TargetName, RunFigures[]>> = {};
    const repeats = scenario.security === undefined ? plan.repeats : plan.realisticRepeats;
    for (let repeat = 1; repeat <= repeats; repeat++) {
      const scenarioTargets =
        scenario.security === undefined ? targets : (realisticTargets?.[scenario.security.signing] ?? []);
      for (const { relay, sink } of scenarioTargets) {
        // A relay that lost or refused messages once would only burn the time budget on repeats.
        if (runs[relay.name]?.some((earlier) => earlier.failures.length > 0) === true) continue;
        const figures = await runScenarioOnce(relay, scenario, sink);
        (runs[relay.name] ??= []).push(figures);
        progress(
          `${scenario.id} #${repeat} ${relay.name}: ${figures.acceptedPerSecond.toFixed(0)} accepted/s, ` +
            `${figures.deliveredPerSecond.toFixed(0)} delivered/s, ${figures.delivered}/${figures.accepted} delivered` +
            (figures.dkim === undefined
              ? ''
              : `, dkimpy ${figures.dkim.signaturesPassed}/${figures.dkim.signaturesExpected} signatures pass`) +
            (figures.failures.length > 0 ? `, failures: ${figures.failures.join('; ')}` : ''),
        );
      }
    }
    scenarios.push({ scenario, runs });
  }

  await stopPostfix();

  const backlog = plan.focused
    ? notMeasuredBacklog('this run measured only the scenarios BENCH_SCENARIOS names')
    : await bothBacklogs(plan, mailfleet, cleanups, progress);

  await cleanups.runAll();
  return {
    machine: run.machine,
    command: run.command,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    loadAverageAtEnd: loadavg(),
    plan,
    mailfleet: mailfleet.status,
    scenarios,
    idleSessions,
    backlog,
  };
}
