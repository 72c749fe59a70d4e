// One fleet, many teams (issue 15): which SenderDomains an SmtpRelay sends for, across namespaces,
// and what each SenderDomain is told about every relay it asked for. The contract between the two
// reconcilers, so both decide the same way. Pure: namespaces' labels come in as a lookup.
//
// A relay sends for a SenderDomain when three things hold:
//  - it wants it: its senderDomainSelector matches the domain's labels, or (without a selector) the
//    domain names it in spec.relays (same namespace) or spec.relayRefs (any namespace);
//  - it allows the domain's namespace: spec.allowedSenderDomains.namespaces, `Same` by default, as
//    Gateway API's allowedRoutes.namespaces (`Same`, `All`, `Selector`);
//  - no other SenderDomain of the same domain came first on that relay. Precedence: the relay's own
//    namespace, then the oldest, then namespace/name order. One relay never signs or authorizes one
//    domain from two sources, so a tenant cannot take over a domain another team already sends.
import type { RelayBinding, SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import { matchesSelector } from '../kube/label-selector.ts';

/** A namespace's labels, or undefined when it is not known (not watched, or gone). */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

export type BindingReason = RelayBinding['reason'];

function namespaceOf(object: SmtpRelay | SenderDomain): string {
  return object.metadata.namespace ?? '';
}

function nameOf(object: SmtpRelay | SenderDomain): string {
  return object.metadata.name ?? '';
}

/** `namespace/name`, the key both kinds are identified by. */
export function objectKey(object: SmtpRelay | SenderDomain): string {
  return `${namespaceOf(object)}/${nameOf(object)}`;
}

/** Whether the relay accepts SenderDomains of `namespace` at all. */
export function namespaceAllowed(relay: SmtpRelay, namespace: string, labelsOf: NamespaceLabels): boolean {
  const allowed = relay.spec.allowedSenderDomains?.namespaces;
  switch (allowed?.from ?? 'Same') {
    case 'Same':
      return namespace === namespaceOf(relay);
    case 'All':
      return true;
    case 'Selector': {
      const labels = labelsOf(namespace);
      return (
        labels !== undefined && allowed?.selector !== undefined && matchesSelector(labels, allowed.selector)
      );
    }
  }
}

/** The relays the domain names, as `namespace/name` keys: spec.relays (its namespace) and spec.relayRefs. */
export function namedRelayKeys(domain: SenderDomain): string[] {
  const own = namespaceOf(domain);
  const keys = [
    ...(domain.spec.relays ?? []).map((name) => `${own}/${name}`),
    ...(domain.spec.relayRefs ?? []).map((ref) => `${ref.namespace ?? own}/${ref.name}`),
  ];
  return [...new Set(keys)];
}

/** Whether the relay asks for the domain, namespaces aside: by its label selector, else by being named. */
export function relayWantsDomain(relay: SmtpRelay, domain: SenderDomain): boolean {
  const selector = relay.spec.senderDomainSelector;
  if (selector !== undefined) return matchesSelector(domain.metadata.labels, selector);
  return namedRelayKeys(domain).includes(objectKey(relay));
}

function isDeleting(domain: SenderDomain): boolean {
  return domain.metadata.deletionTimestamp !== undefined;
}

/** RFC 3339 in UTC to the second, so strings order as times; never set: first. */
function createdAt(domain: SenderDomain): string {
  const value = domain.metadata['creationTimestamp'];
  return typeof value === 'string' ? value : '';
}

/** Orders rival SenderDomains of one domain on `relay`: the first one wins. */
function precedence(relay: SmtpRelay): (a: SenderDomain, b: SenderDomain) => number {
  const home = namespaceOf(relay);
  return (a, b) => {
    const aHome = namespaceOf(a) === home ? 0 : 1;
    const bHome = namespaceOf(b) === home ? 0 : 1;
    if (aHome !== bHome) return aHome - bHome;
    const aCreated = createdAt(a);
    const bCreated = createdAt(b);
    if (aCreated !== bCreated) return aCreated < bCreated ? -1 : 1;
    return objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0;
  };
}

export interface RelayAcceptance {
  /** The SenderDomains the relay sends for, by domain name, one per domain. */
  readonly accepted: readonly SenderDomain[];
  /** Each refused rival (`namespace/name`) and the SenderDomain that won its domain. */
  readonly conflicts: ReadonlyMap<string, SenderDomain>;
}

/** The SenderDomains `relay` sends for, among `domains` (every namespace the operator sees). */
export function relayAcceptance(
  relay: SmtpRelay,
  domains: readonly SenderDomain[],
  labelsOf: NamespaceLabels,
): RelayAcceptance {
  const byDomain = new Map<string, SenderDomain[]>();
  for (const domain of domains) {
    if (isDeleting(domain) || !relayWantsDomain(relay, domain)) continue;
    if (!namespaceAllowed(relay, namespaceOf(domain), labelsOf)) continue;
    const name = domain.spec.domain.toLowerCase();
    byDomain.set(name, [...(byDomain.get(name) ?? []), domain]);
  }
  const accepted: SenderDomain[] = [];
  const conflicts = new Map<string, SenderDomain>();
  for (const rivals of byDomain.values()) {
    const [winner, ...losers] = [...rivals].sort(precedence(relay));
    if (winner === undefined) continue;
    accepted.push(winner);
    for (const loser of losers) conflicts.set(objectKey(loser), winner);
  }
  accepted.sort((a, b) => (a.spec.domain < b.spec.domain ? -1 : a.spec.domain > b.spec.domain ? 1 : 0));
  return { accepted, conflicts };
}

function binding(relayKey: string, reason: BindingReason, message: string): RelayBinding {
  const [namespace = '', name = ''] = relayKey.split('/');
  return { namespace, name, accepted: reason === 'Accepted', reason, message };
}

/** What one relay says to the domain. */
function answer(
  relay: SmtpRelay,
  domain: SenderDomain,
  domains: readonly SenderDomain[],
  labelsOf: NamespaceLabels,
): RelayBinding {
  const key = objectKey(relay);
  const namespace = namespaceOf(domain);
  if (!namespaceAllowed(relay, namespace, labelsOf)) {
    const from = relay.spec.allowedSenderDomains?.namespaces?.from ?? 'Same';
    return binding(
      key,
      'NotAllowedByNamespaces',
      `SmtpRelay ${key} accepts SenderDomains ${from === 'Same' ? 'of its own namespace only' : 'of the namespaces its allowedSenderDomains selector matches'}, not of ${namespace}`,
    );
  }
  if (!relayWantsDomain(relay, domain)) {
    return binding(
      key,
      'NotSelected',
      `SmtpRelay ${key} selects SenderDomains by label (spec.senderDomainSelector) and this one's labels do not match`,
    );
  }
  // Only the rivals for the same domain can win it: O(rivals), not O(every SenderDomain), per relay.
  const name = domain.spec.domain.toLowerCase();
  const rivals = domains.filter((entry) => entry.spec.domain.toLowerCase() === name);
  const winner = relayAcceptance(relay, rivals, labelsOf).conflicts.get(objectKey(domain));
  if (winner !== undefined) {
    return binding(
      key,
      'DomainConflict',
      `SmtpRelay ${key} already sends for ${domain.spec.domain} as SenderDomain ${objectKey(winner)} (its own namespace first, then the oldest)`,
    );
  }
  return binding(key, 'Accepted', `SmtpRelay ${key} sends for the domain`);
}

/**
 * What every relay the domain names, or whose selector matches it from a namespace it allows, says to
 * it, sorted by relay. A relay that selects by label from namespaces that exclude this one is not
 * listed (it never asked); a named relay always is, found or not.
 */
export function relayBindings(
  domain: SenderDomain,
  relays: readonly SmtpRelay[],
  domains: readonly SenderDomain[],
  labelsOf: NamespaceLabels,
): RelayBinding[] {
  const named = new Set(namedRelayKeys(domain));
  const byKey = new Map(relays.map((relay) => [objectKey(relay), relay]));
  const bindings: RelayBinding[] = [];
  for (const key of named) {
    const relay = byKey.get(key);
    bindings.push(
      relay === undefined
        ? binding(key, 'RelayNotFound', `SmtpRelay ${key} does not exist`)
        : answer(relay, domain, domains, labelsOf),
    );
  }
  for (const relay of relays) {
    const key = objectKey(relay);
    if (named.has(key) || relay.spec.senderDomainSelector === undefined) continue;
    if (!relayWantsDomain(relay, domain) || !namespaceAllowed(relay, namespaceOf(domain), labelsOf)) continue;
    bindings.push(answer(relay, domain, domains, labelsOf));
  }
  return bindings.sort((a, b) => {
    const left = `${a.namespace}/${a.name}`;
    const right = `${b.namespace}/${b.name}`;
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/** status.relays: the accepting relays, by name in the domain's namespace, else `namespace/name`. */
export function acceptingRelayNames(domain: SenderDomain, bindings: readonly RelayBinding[]): string[] {
  return bindings
    .filter((entry) => entry.accepted)
    .map((entry) =>
      entry.namespace === namespaceOf(domain) ? entry.name : `${entry.namespace}/${entry.name}`,
    );
}
