// The operator's metrics: one Registry, declared here with fixed, bounded labels (controller names,
// API verbs, HTTP codes, outcomes; never object names) — but for one gauge: the DNS records DNS
// verification does not find, labelled by SenderDomain and record name so that the alert on a record
// that stays unpublished names it. It holds only records not found (at most 16 per SenderDomain, the
// size of status.dnsRecords), none once they are.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiVerb } from './kube/client.ts';
import type { ProcessOutcome } from './kube/workqueue.ts';
import { scaledDownStates, type ScaledDownState } from './status/smtp-relay-scale-down.ts';

export const metricNames = {
  reconciles: 'mailfleet_operator_reconcile_total',
  reconcileDuration: 'mailfleet_operator_reconcile_duration_seconds',
  queueDepth: 'mailfleet_operator_workqueue_depth',
  apiRequests: 'mailfleet_operator_api_requests_total',
  apiErrors: 'mailfleet_operator_api_errors_total',
  leader: 'mailfleet_operator_leader',
  senderDomains: 'mailfleet_operator_sender_domains',
  dnsVerificationLost: 'mailfleet_operator_sender_domain_dns_verification_lost_total',
  relaysDeleting: 'mailfleet_operator_relays_deleting',
  deletionHeldMessages: 'mailfleet_operator_relay_deletion_held_messages',
  scaledDownQueues: 'mailfleet_operator_scaled_down_queues',
  unverifiedRecords: 'mailfleet_operator_sender_domain_unverified_records',
} as const;

/** A record of status.dnsRecords the last check did not find as listed. */
export interface UnverifiedRecord {
  readonly purpose: string;
  readonly name: string;
}

/** A SenderDomain's DnsVerified condition: True, False after a check, or not checked (yet, or disabled). */
export const senderDomainDnsStates = ['verified', 'failing', 'unchecked'] as const;
export type SenderDomainDnsState = (typeof senderDomainDnsStates)[number];

/** The state to report for the status of a DnsVerified condition (Unknown: not checked, or disabled). */
export function senderDomainDnsStateOf(conditionStatus: 'True' | 'False' | 'Unknown'): SenderDomainDnsState {
  if (conditionStatus === 'True') return 'verified';
  return conditionStatus === 'False' ? 'failing' : 'unchecked';
}

export interface OperatorMetrics {
  readonly registry: Registry;
  reconciled(controller: string, outcome: ProcessOutcome, durationMs: number): void;
  apiRequest(verb: ApiVerb, code: string): void;
  setLeader(leading: boolean): void;
  /**
   * After each SenderDomain reconcile: its DnsVerified state (`key` is namespace/name, never a label
   * of these counts) and the records the last check did not find (labelled by `key` and name).
   */
  senderDomainDns(key: string, state: SenderDomainDnsState, unverified?: readonly UnverifiedRecord[]): void;
  /** When a SenderDomain is deleted. (A replica that stops leading forgets every domain by itself.) */
  forgetSenderDomain(key: string): void;
  /**
   * While a deleted SmtpRelay waits for its pods (`key` namespace/name, never a label): the messages
   * they still hold; undefined once the deletion has gone on.
   */
  relayDeletion(key: string, heldMessages: number | undefined): void;
  /** After each SmtpRelay reconcile: the states of its scaled-away queue PVCs not known empty and deleted. */
  scaledDownQueues(key: string, states: readonly ScaledDownState[]): void;
}

/** `queueDepths` is read at each scrape. */
export function createOperatorMetrics(queueDepths: () => Iterable<[string, number]>): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailfleet_operator_' });
  const reconciles = new Counter({
    name: metricNames.reconciles,
    help: 'Reconciles by controller and result (success, requeue, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: metricNames.reconcileDuration,
    help: 'Time taken by one reconcile.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: metricNames.queueDepth,
    help: 'Keys waiting in a controller work queue.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [controller, depth] of queueDepths()) this.set({ controller }, depth);
    },
  });
  const apiRequests = new Counter({
    name: metricNames.apiRequests,
    help: 'Kubernetes API requests by verb and HTTP response code ("error" when none arrived).',
    labelNames: ['verb', 'code'] as const,
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: metricNames.apiErrors,
    help: 'Kubernetes API requests that failed (code 400 and above, or no response), by verb and code.',
    labelNames: ['verb', 'code'] as const,
    registers: [registry],
  });
  const dnsStates = new Map<string, SenderDomainDnsState>();
  new Gauge({
    name: metricNames.senderDomains,
    help: 'SenderDomains reconciled by this replica, by DNS verification state (verified, failing, unchecked).',
    labelNames: ['dns'] as const,
    registers: [registry],
    collect() {
      for (const dns of senderDomainDnsStates) this.set({ dns }, 0);
      for (const dns of dnsStates.values()) this.inc({ dns });
    },
  });
  const unverified = new Map<string, readonly UnverifiedRecord[]>();
  new Gauge({
    name: metricNames.unverifiedRecords,
    help: 'Records of a SenderDomain (status.dnsRecords) its last DNS check did not find as listed, 1 each, by SenderDomain (namespace/name), purpose and record name.',
    labelNames: ['sender_domain', 'purpose', 'record'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, records] of unverified)
        for (const { purpose, name } of records) this.set({ sender_domain: key, purpose, record: name }, 1);
    },
  });
  const dnsVerificationLost = new Counter({
    name: metricNames.dnsVerificationLost,
    help: 'SenderDomains whose records were verified and then found missing or changed.',
    registers: [registry],
  });
  const deleting = new Map<string, number>();
  new Gauge({
    name: metricNames.relaysDeleting,
    help: 'Deleted SmtpRelays whose deletion waits for their pods to deliver what they hold.',
    registers: [registry],
    collect() {
      this.set(deleting.size);
    },
  });
  new Gauge({
    name: metricNames.deletionHeldMessages,
    help: 'Messages still queued in the pods of deleted SmtpRelays, as last read from the pods (/queuez).',
    registers: [registry],
    collect() {
      this.set([...deleting.values()].reduce((sum, held) => sum + held, 0));
    },
  });
  const scaledDown = new Map<string, readonly ScaledDownState[]>();
  new Gauge({
    name: metricNames.scaledDownQueues,
    help: 'Queue PVCs of relay pods scaled away, by state (waiting, draining, drained, failed): failed ones still hold mail.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const state of scaledDownStates) this.set({ state }, 0);
      for (const states of scaledDown.values()) for (const state of states) this.inc({ state });
    },
  });
  const leader = new Gauge({
    name: metricNames.leader,
    help: '1 while this replica holds the leader lease and runs the workers.',
    registers: [registry],
  });
  return {
    registry,
    reconciled(controller, outcome, durationMs) {
      reconciles.inc({ controller, result: outcome });
      reconcileDuration.observe({ controller }, durationMs / 1_000);
    },
    apiRequest(verb, code) {
      apiRequests.inc({ verb, code });
      if (code === 'error' || Number(code) >= 400) apiErrors.inc({ verb, code });
    },
    setLeader(leading) {
      leader.set(leading ? 1 : 0);
      // A standby reconciles nothing: stale counts would page twice for one domain.
      if (!leading) {
        dnsStates.clear();
        unverified.clear();
        deleting.clear();
        scaledDown.clear();
      }
    },
    senderDomainDns(key, state, records = []) {
      if (dnsStates.get(key) === 'verified' && state === 'failing') dnsVerificationLost.inc();
      dnsStates.set(key, state);
      if (records.length === 0) unverified.delete(key);
      else unverified.set(key, records);
    },
    forgetSenderDomain(key) {
      dnsStates.delete(key);
      unverified.delete(key);
    },
    scaledDownQueues(key, states) {
      if (states.length === 0) scaledDown.delete(key);
      else scaledDown.set(key, states);
    },
    relayDeletion(key, heldMessages) {
      if (heldMessages === undefined) deleting.delete(key);
      else deleting.set(key, heldMessages);
    },
  };
}
