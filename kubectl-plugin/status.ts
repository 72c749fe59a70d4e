// `kubectl mailfleet status`: the SmtpRelays and SenderDomains of a namespace (or all), their
// conditions, and each relay pod's queue as its queue CLI lists it. Pure: objects and answers in.
import type { Condition, SenderDomain, SmtpRelay } from '../operator/api/types.generated.ts';
import { age, listedMessages, type PodAnswer } from './queue.ts';
import { renderTable } from './table.ts';

export interface RelayPods {
  readonly relay: SmtpRelay;
  /** Each pod's answer to `mailfleet-relay queue list`, by pod name. */
  readonly answers: readonly PodAnswer[];
}

export interface StatusInput {
  readonly relays: readonly RelayPods[];
  readonly domains: readonly SenderDomain[];
  /** Prefix each row with its namespace (--all-namespaces). */
  readonly showNamespace: boolean;
}

function conditionStatus(conditions: readonly Condition[] | undefined, type: string): string {
  return conditions?.find((condition) => condition.type === type)?.status ?? '-';
}

/** Degraded is healthy when False; Progressing (a rollout) is news, not trouble; the rest when True. */
function needsAttention(condition: Condition): boolean {
  if (condition.type === 'Progressing') return false;
  return condition.type === 'Degraded' ? condition.status === 'True' : condition.status !== 'True';
}

function section(title: string, headers: readonly string[], rows: readonly string[][]): string {
  return rows.length === 0 ? `${title}: none\n` : `${title}\n${renderTable(headers, rows)}`;
}

export function renderStatus(input: StatusInput): string {
  const ns = (namespace: string | undefined) => (input.showNamespace ? [namespace ?? ''] : []);
  const nsHeader = input.showNamespace ? ['NAMESPACE'] : [];
  const relayRows = input.relays.map(({ relay }) => [
    ...ns(relay.metadata.namespace),
    relay.metadata.name ?? '',
    conditionStatus(relay.status?.conditions, 'Ready'),
    `${relay.status?.readyReplicas ?? 0}/${relay.spec.replicas}`,
    conditionStatus(relay.status?.conditions, 'Progressing'),
    conditionStatus(relay.status?.conditions, 'Degraded'),
    (relay.status?.senderDomains ?? []).map((bound) => bound.domain).join(',') || '-',
  ]);
  const podRows: string[][] = [];
  const unreachable: string[] = [];
  for (const { relay, answers } of input.relays) {
    const { byPod, failures } = listedMessages(answers);
    for (const { pod, messages } of byPod) {
      const deferred = messages.filter((m) => m.recipients.some((r) => r.status === 'deferred')).length;
      const oldest = Math.max(-1, ...messages.map((m) => m.ageSeconds));
      podRows.push([
        ...ns(relay.metadata.namespace),
        relay.metadata.name ?? '',
        pod,
        String(messages.length),
        String(deferred),
        oldest < 0 ? '-' : age(oldest),
      ]);
    }
    for (const { pod, problem } of failures) {
      podRows.push([...ns(relay.metadata.namespace), relay.metadata.name ?? '', pod, '?', '?', '?']);
      unreachable.push(`pod ${pod}: queue not read: ${problem}`);
    }
  }
  const domainRows = input.domains.map((domain) => [
    ...ns(domain.metadata.namespace),
    domain.metadata.name ?? '',
    domain.spec.domain,
    conditionStatus(domain.status?.conditions, 'Ready'),
    conditionStatus(domain.status?.conditions, 'DkimKeyReady'),
    conditionStatus(domain.status?.conditions, 'DnsVerified'),
    (domain.status?.relays ?? []).join(',') || '-',
  ]);
  const attention = [
    ...input.relays.map(({ relay }) => ({ kind: 'SmtpRelay', object: relay })),
    ...input.domains.map((domain) => ({ kind: 'SenderDomain', object: domain })),
  ].flatMap(({ kind, object }) =>
    (object.status?.conditions ?? [])
      .filter(needsAttention)
      .map(
        (condition) =>
          `${kind}/${object.metadata.name ?? ''}${input.showNamespace ? ` (${object.metadata.namespace ?? ''})` : ''} ${condition.type}=${condition.status} ${condition.reason}: ${condition.message}`,
      ),
  );
  return [
    section(
      'SMTP RELAYS',
      [...nsHeader, 'NAME', 'READY', 'PODS', 'PROGRESSING', 'DEGRADED', 'DOMAINS'],
      relayRows,
    ),
    section('RELAY PODS', [...nsHeader, 'RELAY', 'POD', 'QUEUED', 'DEFERRED', 'OLDEST'], podRows),
    section(
      'SENDER DOMAINS',
      [...nsHeader, 'NAME', 'DOMAIN', 'READY', 'DKIM KEY', 'DNS VERIFIED', 'RELAYS'],
      domainRows,
    ),
    [...attention, ...unreachable].length === 0
      ? 'Every condition is as it should be.\n'
      : `NEEDS ATTENTION\n${[...attention, ...unreachable].map((line) => `  ${line}\n`).join('')}`,
  ].join('\n');
}
