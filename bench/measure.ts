// Runs one scenario once against one relay and measures it: accept and delivery rates, latency to
// the 250 reply, the relay tree's CPU seconds and peak memory.
import type { Scenario } from './scenarios.ts';
import type { SmtpSink } from './smtp-sink.ts';
import type { PeakMemory } from './process-tree.ts';
import { sampleMemory, treeCpuSeconds } from './process-tree.ts';
import type { DkimSample } from './dkim-sample.ts';
import { verifyDumpedSample } from './dkim-sample.ts';
import { dkimSampleSize, expectedSignatures, senderOf } from './realistic.ts';
import { runClients, runProbe } from './smtp-probe.ts';
import type { ProbeResult, SecureSession } from './smtp-probe.ts';
import { runSmtpSource } from './smtp-source.ts';
import { percentile } from './stats.ts';

export const targetNames = ['ceiling', 'postfix', 'mailfleet'] as const;
export type TargetName = (typeof targetNames)[number];

export interface RelayUnderTest {
  readonly name: TargetName;
  readonly port: number;
  /** Root of the relay's process tree for CPU and memory accounting; absent for the bare sink (the ceiling). */
  readonly rootPid?: number;
  /** Roots of helper processes counted with the relay (the realistic Postfix's OpenDKIM milter). */
  readonly extraPids?: readonly number[];
  /** How clients of the realistic set reach it: the certificate to trust, the user to log in as. */
  readonly secure?: Pick<SecureSession, 'serverName' | 'caPem' | 'credentials'>;
  /** Where its sink dumps delivered messages and the DNS server with the DKIM keys, to check signatures. */
  readonly dkimCheck?: { readonly dumpDirectory: string; readonly dnsServer: string };
}

export interface RunFigures {
  /** Messages the relay answered 250 to. */
  readonly accepted: number;
  /** Messages that reached the sink. */
  readonly delivered: number;
  readonly sendSeconds: number;
  /** From the start of sending until the last message reached the sink. */
  readonly endToEndSeconds: number;
  readonly acceptedPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly latencyP50Ms: number | undefined;
  readonly latencyP99Ms: number | undefined;
  readonly latencySamples: number;
  readonly cpuSeconds: number | undefined;
  readonly peakMemory: PeakMemory | undefined;
  readonly failures: readonly string[];
  /** dkimpy's verdict on a sample of the run's delivered messages (relays of the realistic set). */
  readonly dkim?: DkimSample;
}

async function cpuSecondsOf(relay: RelayUnderTest): Promise<number | undefined> {
  return relay.rootPid === undefined ? undefined : treeCpuSeconds(relay.rootPid, relay.extraPids);
}

async function drive(
  relay: RelayUnderTest,
  scenario: Scenario,
): Promise<{ accepted: number; probe: ProbeResult; failures: string[] }> {
  const probeOptions = {
    port: relay.port,
    payloadBytes: scenario.payloadBytes,
    reuseConnection: scenario.reuseConnections,
  };
  if (scenario.driver === 'clients') {
    const { security } = scenario;
    if (security === undefined || relay.secure === undefined) {
      throw new Error(`${scenario.id}: the realistic clients need a relay with TLS and AUTH`);
    }
    const secure = { ...relay.secure, tlsVersion: security.tlsVersion, sender: senderOf(security.signing) };
    const load = await runClients(
      { ...probeOptions, secure, maxMessages: scenario.messages },
      scenario.sessions,
    );
    return { accepted: load.accepted, probe: load, failures: [...load.failures] };
  }
  if (scenario.driver === 'probe') {
    const probe = await runProbe({ ...probeOptions, maxMessages: scenario.messages });
    return { accepted: probe.accepted, probe, failures: [...probe.failures] };
  }
  // The probe is one more serial client next to smtp-source's sessions, sampling latency under load.
  const stopProbe = new AbortController();
  const probing = runProbe({
    ...probeOptions,
    maxMessages: Number.MAX_SAFE_INTEGER,
    signal: stopProbe.signal,
  });
  const source = await runSmtpSource(scenario, relay.port);
  stopProbe.abort();
  const probe = await probing;
  const failures = [...probe.failures];
  // smtp-source stops at the first unexpected reply, so a failed run accepted an unknown share.
  if (source.exitCode !== 0) failures.push(`smtp-source exited ${source.exitCode}: ${source.diagnostics}`);
  return { accepted: (source.exitCode === 0 ? scenario.messages : 0) + probe.accepted, probe, failures };
}

export async function runScenarioOnce(
  relay: RelayUnderTest,
  scenario: Scenario,
  sink: SmtpSink,
): Promise<RunFigures> {
  const deliveredBefore = sink.delivered();
  const cpuBefore = await cpuSecondsOf(relay);
  const memory = relay.rootPid === undefined ? undefined : sampleMemory(relay.rootPid, relay.extraPids);
  const started = performance.now();
  const { accepted, probe, failures } = await drive(relay, scenario);
  const sendSeconds = (performance.now() - started) / 1000;
  const drainTimeoutMs = Math.min(300_000, Math.max(60_000, sendSeconds * 10_000));
  const reached = await sink.waitForDelivered(deliveredBefore + accepted, drainTimeoutMs);
  const endToEndSeconds = (performance.now() - started) / 1000;
  const cpuAfter = await cpuSecondsOf(relay);
  const peakMemory = await memory?.stop();
  const delivered = reached - deliveredBefore;
  if (delivered < accepted)
    failures.push(`${accepted - delivered} accepted messages not delivered after ${drainTimeoutMs / 1000} s`);
  const dkim =
    relay.dkimCheck === undefined || scenario.security === undefined
      ? undefined
      : await verifyDumpedSample(
          relay.dkimCheck.dumpDirectory,
          dkimSampleSize,
          expectedSignatures(scenario.security.signing),
          relay.dkimCheck.dnsServer,
        );
  failures.push(...(dkim?.failures ?? []));
  return {
    accepted,
    delivered,
    sendSeconds,
    endToEndSeconds,
    acceptedPerSecond: accepted / sendSeconds,
    deliveredPerSecond: delivered / endToEndSeconds,
    latencyP50Ms: percentile(probe.latenciesMs, 0.5),
    latencyP99Ms: percentile(probe.latenciesMs, 0.99),
    latencySamples: probe.latenciesMs.length,
    cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    peakMemory,
    failures,
    ...(dkim === undefined ? {} : { dkim }),
  };
}
