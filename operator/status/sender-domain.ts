// The status of a SenderDomain: conditions DkimKeyReady, DnsVerified, Ready and, when its records
// are published through external-dns, DnsPublished; status.dkim, status.dnsRecords, status.relays
// and status.relayBindings, and the Events its changes deserve. Pure: every input,
// including the time and the previous status, comes in as a parameter.
import type {
  Condition,
  DkimStatus,
  DnsRecord,
  RelayBinding,
  SenderDomain,
  SenderDomainStatus,
} from '../api/types.generated.ts';
import type { EventType } from '../kube/events.ts';
import { kubeTime, type DesiredStatus } from '../kube/status-diff.ts';
import type { DkimChange, PublishedSelector, RotationPhase } from '../render/sender-domain-dkim-plan.ts';
import { acceptingRelayNames } from '../render/relay-acceptance.ts';
import { dkimDnsSelector } from '../render/sender-domain-binding.ts';
import { dkimRecordName, type WantedRecord } from '../render/sender-domain-dns.ts';
import type { DnsCheck, RecordOutcome } from './sender-domain-dns-check.ts';

export type DesiredCondition = NonNullable<DesiredStatus['conditions']>[number];

/** What the DKIM step found: keys that sign (generated or the user's), DKIM off, or a problem. */
export type KeysOutcome =
  | {
      readonly kind: 'ready';
      readonly source: 'generated' | 'own';
      readonly secretName: string;
      readonly published: readonly PublishedSelector[];
      readonly dkim: DkimStatus;
      /** Where an automatic rotation stands (generated keys published through external-dns). */
      readonly phase?: RotationPhase;
    }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'failed'; readonly reason: string; readonly message: string };

/** What the DNS step did: verification off, a check made now, or the last check still current. */
export type DnsOutcome =
  | { readonly kind: 'disabled' }
  | { readonly kind: 'checked'; readonly check: DnsCheck }
  | {
      readonly kind: 'current';
      readonly records: readonly DnsRecord[];
      readonly condition: DesiredCondition;
    };

/** What publishing through external-dns did; undefined when the records are published by hand. */
export type PublishingOutcome =
  | { readonly kind: 'published'; readonly endpoint: string; readonly records: number }
  | {
      readonly kind: 'failed';
      readonly reason: 'DnsEndpointNotServed' | 'DnsEndpointNotOwned' | 'ApplyFailed';
      readonly message: string;
      /** An apiserver failure, retried with backoff (the others wait for a change). */
      readonly retry?: boolean;
    };

export interface StatusInput {
  readonly domain: SenderDomain;
  readonly keys: KeysOutcome;
  readonly wanted: readonly WantedRecord[];
  readonly dns: DnsOutcome;
  /** What each relay the domain asked for said (render/relay-acceptance.ts). */
  readonly bindings: readonly RelayBinding[];
  readonly publishing?: PublishingOutcome | undefined;
}

function sameRecords(a: readonly Pick<DnsRecord, 'purpose' | 'name' | 'value'>[], b: typeof a): boolean {
  return (
    a.length === b.length &&
    a.every(
      (record, index) =>
        record.purpose === b[index]?.purpose &&
        record.name === b[index].name &&
        record.value === b[index].value,
    )
  );
}

/**
 * Whether the records must be looked up now: verification is on and they were never checked, they
 * changed, the spec changed, or the last check is `interval` old. Otherwise the last check stands.
 */
export function dnsCheckDue(
  domain: SenderDomain,
  wanted: readonly WantedRecord[],
  nowMs: number,
  intervalMs: number,
): { readonly due: true } | { readonly due: false; readonly nextMs: number; readonly current: DnsOutcome } {
  const status = domain.status;
  const previous = status?.dnsRecords ?? [];
  const condition = status?.conditions?.find((entry) => entry.type === 'DnsVerified');
  const checkedAt = Math.min(...previous.map((record) => Date.parse(record.lastChecked ?? '')));
  const current =
    condition !== undefined &&
    condition.status !== 'Unknown' &&
    status?.observedGeneration === domain.metadata.generation &&
    sameRecords(previous, wanted) &&
    Number.isFinite(checkedAt) &&
    nowMs < checkedAt + intervalMs;
  if (!current) return { due: true };
  return {
    due: false,
    nextMs: checkedAt + intervalMs,
    current: {
      kind: 'current',
      records: previous,
      condition: {
        type: 'DnsVerified',
        status: condition.status,
        reason: condition.reason,
        message: condition.message,
      },
    },
  };
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

function keysCondition(domain: SenderDomain, keys: KeysOutcome): DesiredCondition {
  const type = 'DkimKeyReady';
  if (keys.kind === 'disabled') {
    return {
      type,
      status: 'True',
      reason: 'DkimDisabled',
      message: `spec.dkim.enabled is false: mail for ${domain.spec.domain} is not signed`,
    };
  }
  if (keys.kind === 'failed') return { type, status: 'False', reason: keys.reason, message: keys.message };
  const where = `Secret ${domain.metadata.namespace ?? ''}/${keys.secretName}`;
  const algorithms = list(domain.spec.dkim.algorithms);
  const active = keys.dkim.activeSelector ?? '';
  if (keys.source === 'own') {
    return {
      type,
      status: 'True',
      reason: 'KeysValid',
      message: `${where} (spec.dkim.privateKeySecretRef) holds valid ${algorithms} keys; selector ${active} signs`,
    };
  }
  const signs = `${where} holds the generated ${algorithms} keys; selector ${active} signs`;
  const nextSelector = keys.dkim.nextSelector ?? '';
  const from = keys.dkim.nextRotation ?? '?';
  switch (keys.phase) {
    case 'awaitingDns':
      return {
        type,
        status: 'True',
        reason: 'NextKeyAwaitingDns',
        message: `${signs}; ${nextSelector} is published through the DNSEndpoint and signs once DNS verification sees it, not before ${from}`,
      };
    case 'nextVisible':
      return {
        type,
        status: 'True',
        reason: 'NextKeyVisible',
        message: `${signs}; ${nextSelector} is seen in DNS and signs from ${from}`,
      };
    case 'retiring': {
      const previous = keys.published.find((entry) => entry.role === 'retiring')?.selector ?? '';
      return {
        type,
        status: 'True',
        reason: 'PreviousKeyRetiring',
        message: `${signs}; the previous selector ${previous} stays published for spec.dkim.rotation.overlap after the switch, then its records are withdrawn`,
      };
    }
    case 'steady':
    case undefined:
      break;
  }
  const next = nextSelector === '' ? '' : `; ${nextSelector} is published and signs from ${from}`;
  return {
    type,
    status: 'True',
    reason: 'KeysGenerated',
    message: `${signs}${next}`,
  };
}

/** The DNS names of the next selector's records, which a rotation publishes ahead of its switch. */
function nextSelectorNames(domain: SenderDomain, keys: KeysOutcome): ReadonlySet<string> {
  if (keys.kind !== 'ready') return new Set();
  const algorithms = domain.spec.dkim.algorithms;
  return new Set(
    keys.published
      .filter((entry) => entry.role === 'next')
      .flatMap(({ selector, keys: selectorKeys }) =>
        selectorKeys.map(({ algorithm }) =>
          dkimRecordName(dkimDnsSelector(selector, algorithm, algorithms), domain.spec.domain),
        ),
      ),
  );
}

function dnsCondition(
  domain: SenderDomain,
  wanted: readonly WantedRecord[],
  dns: DnsOutcome,
  pending: ReadonlySet<string>,
): DesiredCondition {
  const type = 'DnsVerified';
  if (dns.kind === 'current') return dns.condition;
  if (dns.kind === 'disabled') {
    return {
      type,
      status: 'Unknown',
      reason: 'VerificationDisabled',
      message: 'spec.dnsVerification.enabled is false: the records in status.dnsRecords are not checked',
    };
  }
  const { check } = dns;
  if (wanted.length === 0) {
    return {
      type,
      status: 'True',
      reason: 'NoRecords',
      message: `${domain.spec.domain} needs no DNS records`,
    };
  }
  if (check.verified) {
    return {
      type,
      status: 'True',
      reason: 'RecordsPublished',
      message: `all ${wanted.length} records in status.dnsRecords are published`,
    };
  }
  const failing = (outcome: RecordOutcome) => outcome.kind !== 'verified';
  const onlyNextSelector = check.outcomes.every(
    (outcome, index) => !failing(outcome) || pending.has(check.records[index]?.name ?? ''),
  );
  if (pending.size > 0 && onlyNextSelector) {
    // A rotation in progress: the next key is on its way to DNS and signs only once it is seen.
    return {
      type,
      status: 'False',
      reason: 'NextKeyNotYetVisible',
      message: `${check.problems.length} of ${wanted.length} records in status.dnsRecords not verified, all of the next DKIM selector, which signs only once they are seen: ${check.problems.join('; ')}`,
    };
  }
  return {
    type,
    status: 'False',
    reason: check.onlyLookupFailures ? 'LookupFailed' : 'RecordsNotPublished',
    message: `${check.problems.length} of ${wanted.length} records in status.dnsRecords not verified: ${check.problems.join('; ')}`,
  };
}

function refusals(bindings: readonly RelayBinding[]): string {
  const refused = bindings.filter((entry) => !entry.accepted);
  if (refused.length === 0) return '';
  return `; refused by ${refused.map((entry) => `SmtpRelay ${entry.namespace}/${entry.name} (${entry.reason})`).join(', ')}: see status.relayBindings`;
}

function readyCondition(
  domain: SenderDomain,
  keys: DesiredCondition,
  dns: DesiredCondition,
  bindings: readonly RelayBinding[],
): DesiredCondition {
  const type = 'Ready';
  if (keys.status !== 'True') {
    return { type, status: 'False', reason: 'DkimKeyNotReady', message: keys.message };
  }
  if (domain.spec.dnsVerification.enabled && dns.status !== 'True' && dns.reason !== 'NextKeyNotYetVisible') {
    return { type, status: 'False', reason: 'DnsNotVerified', message: dns.message };
  }
  const relays = acceptingRelayNames(domain, bindings);
  const sentBy =
    relays.length === 0
      ? 'no SmtpRelay sends for it yet (spec.relays, spec.relayRefs or a relay senderDomainSelector)'
      : `sent by SmtpRelay ${list(relays)}`;
  return {
    type,
    status: 'True',
    reason: 'Ready',
    message: `mail for ${domain.spec.domain} is ${sentBy}${refusals(bindings)}`,
  };
}

/** The most status.relayBindings holds (the CRD's maxItems). */
const maxBindings = 32;

function publishedCondition(publishing: PublishingOutcome): DesiredCondition {
  const type = 'DnsPublished';
  if (publishing.kind === 'failed') {
    return { type, status: 'False', reason: publishing.reason, message: publishing.message };
  }
  return {
    type,
    status: 'True',
    reason: 'DnsEndpointApplied',
    message: `DNSEndpoint ${publishing.endpoint} holds the ${publishing.records} records of status.dnsRecords for external-dns to publish`,
  };
}

export function senderDomainStatus(input: StatusInput): DesiredStatus {
  const { domain, keys, wanted, dns, bindings, publishing } = input;
  const keysReady = keysCondition(domain, keys);
  const pending = publishing?.kind === 'published' ? nextSelectorNames(domain, keys) : new Set<string>();
  const dnsVerified = dnsCondition(domain, wanted, dns, pending);
  const records = dns.kind === 'checked' ? dns.check.records : dns.kind === 'current' ? dns.records : wanted;
  const relays = acceptingRelayNames(domain, bindings).slice(0, 16);
  return {
    conditions: [
      keysReady,
      dnsVerified,
      readyCondition(domain, keysReady, dnsVerified, bindings),
      ...(publishing === undefined ? [] : [publishedCondition(publishing)]),
    ],
    ...(records.length === 0 ? {} : { dnsRecords: records }),
    ...(keys.kind === 'ready' ? { dkim: keys.dkim } : {}),
    ...(relays.length === 0 ? {} : { relays }),
    ...(bindings.length === 0 ? {} : { relayBindings: bindings.slice(0, maxBindings) }),
  };
}

export interface SenderDomainEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** Events for condition changes between the status as read and the one about to be written. */
export function conditionEvents(
  previous: SenderDomainStatus | undefined,
  next: DesiredStatus,
): SenderDomainEvent[] {
  const before = (type: string): Pick<Condition, 'status' | 'reason' | 'message'> | undefined =>
    previous?.conditions?.find((condition) => condition.type === type);
  const after = (type: string) => next.conditions?.find((condition) => condition.type === type);
  const events: SenderDomainEvent[] = [];
  const keys = after('DkimKeyReady');
  const keysBefore = before('DkimKeyReady');
  if (keys?.status === 'False' && (keysBefore?.status !== 'False' || keysBefore.message !== keys.message)) {
    events.push({ type: 'Warning', reason: keys.reason, message: keys.message });
  }
  // The waits of an automatic rotation (its other steps are Events of the Secret's changes).
  if (
    keys !== undefined &&
    (keys.reason === 'NextKeyAwaitingDns' || keys.reason === 'NextKeyVisible') &&
    keysBefore?.reason !== keys.reason
  ) {
    events.push({ type: 'Normal', reason: keys.reason, message: keys.message });
  }
  const published = after('DnsPublished');
  const publishedBefore = before('DnsPublished');
  if (published?.status === 'False' && publishedBefore?.message !== published.message) {
    events.push({ type: 'Warning', reason: published.reason, message: published.message });
  }
  const dns = after('DnsVerified');
  const dnsBefore = before('DnsVerified');
  if (
    dns !== undefined &&
    dns.reason !== 'VerificationDisabled' &&
    dns.reason !== 'NextKeyNotYetVisible' &&
    dns.status !== dnsBefore?.status
  ) {
    if (dns.status === 'True') events.push({ type: 'Normal', reason: 'DnsVerified', message: dns.message });
    else if (dnsBefore?.status === 'True') {
      events.push({ type: 'Warning', reason: 'DnsRecordsLost', message: dns.message });
    } else events.push({ type: 'Warning', reason: 'DnsNotVerified', message: dns.message });
  }
  return events;
}

/** Events for what the DKIM planner did (after the Secret holding it was written). */
export function dkimChangeEvents(
  domain: SenderDomain,
  secretName: string,
  changes: readonly DkimChange[],
  /** The DNSEndpoint that publishes the records, when external-dns does. */
  endpoint?: string,
): SenderDomainEvent[] {
  const where = `Secret ${domain.metadata.namespace ?? ''}/${secretName}`;
  const inEndpoint = `DNSEndpoint ${domain.metadata.namespace ?? ''}/${endpoint ?? ''}`;
  const algorithms = domain.spec.dkim.algorithms;
  const record = (selector: string) =>
    algorithms
      .map((algorithm) =>
        dkimRecordName(dkimDnsSelector(selector, algorithm, algorithms), domain.spec.domain),
      )
      .join(' and ');
  return changes.map((change): SenderDomainEvent => {
    switch (change.kind) {
      case 'generated': {
        const what = `generated ${list(change.algorithms)} DKIM key${change.algorithms.length > 1 ? 's' : ''} of selector ${change.selector} in ${where}`;
        const when =
          endpoint !== undefined
            ? change.signsFromMs === undefined
              ? `it signs now; ${record(change.selector)} is published through ${inEndpoint}`
              : `${record(change.selector)} is published through ${inEndpoint}; it signs once DNS verification sees it, not before ${kubeTime(change.signsFromMs)}`
            : change.signsFromMs === undefined
              ? `it signs now: publish ${record(change.selector)} from status.dnsRecords`
              : `publish ${record(change.selector)} from status.dnsRecords before ${kubeTime(change.signsFromMs)}, when it starts signing`;
        return { type: 'Normal', reason: 'DkimKeyGenerated', message: `${what}; ${when}` };
      }
      case 'rotated':
        return {
          type: 'Normal',
          reason: 'DkimKeyRotated',
          message:
            endpoint !== undefined
              ? `selector ${change.to} signs now instead of ${change.from}; ${record(change.from)} stays in ${inEndpoint} until ${kubeTime(change.retiresAtMs)}`
              : `selector ${change.to} signs now instead of ${change.from}; keep ${record(change.from)} published until ${kubeTime(change.retiresAtMs)}`,
        };
      case 'retired':
        return {
          type: 'Normal',
          reason: 'DkimKeyRetired',
          message:
            endpoint !== undefined
              ? `selector ${change.selector} is retired, its keys removed from ${where} and ${record(change.selector)} withdrawn from ${inEndpoint}`
              : `selector ${change.selector} is retired and its keys removed from ${where}; remove ${record(change.selector)} from DNS`,
        };
    }
  });
}
