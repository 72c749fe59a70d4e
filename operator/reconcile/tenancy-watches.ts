// How the two reconcilers learn about each other across namespaces (issue 15, one fleet for many
// teams): which relays a SenderDomain change concerns, which SenderDomains a relay change concerns,
// and what a Namespace's labels change. Decisions are render/relay-acceptance.ts's; this file reads
// the caches. Over-enqueuing is harmless (a reconcile with nothing to change writes nothing); missing
// a key is not, so every mapping errs wide.
import { senderDomainResource, smtpRelayResource } from '../api/kinds.ts';
import type { RelayBinding, SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import type { ControllerContext, SecondaryWatch } from '../kube/controller.ts';
import { coreResources, keyOf, type KubeObject } from '../kube/resource.ts';
import {
  namespaceAllowed,
  relayBindings,
  relayWantsDomain,
  type NamespaceLabels,
} from '../render/relay-acceptance.ts';

type Relay = SmtpRelay & KubeObject;
type Domain = SenderDomain & KubeObject;

/** Namespaces' labels from the Namespace cache (watched by both controllers). */
export function namespaceLabelsOf(context: ControllerContext): NamespaceLabels {
  const namespaces = context.cache(coreResources.namespace);
  return (namespace) => {
    const object = namespaces.get(namespace);
    return object === undefined ? undefined : (object.metadata?.labels ?? {});
  };
}

export function allRelays(context: ControllerContext): Relay[] {
  return context.cache<Relay>(smtpRelayResource).list();
}

export function allSenderDomains(context: ControllerContext): Domain[] {
  return context.cache<Domain>(senderDomainResource).list();
}

/** The relays that may send for `domain`: they want it and allow its namespace. */
export function relaysSelecting(domain: SenderDomain, context: ControllerContext): string[] {
  const labelsOf = namespaceLabelsOf(context);
  const namespace = domain.metadata.namespace ?? '';
  return allRelays(context)
    .filter((relay) => relayWantsDomain(relay, domain) && namespaceAllowed(relay, namespace, labelsOf))
    .map((relay) => keyOf(relay));
}

/** What every relay the domain asked for says to it (its status.relayBindings). */
export function domainRelayBindings(domain: SenderDomain, context: ControllerContext): RelayBinding[] {
  return relayBindings(domain, allRelays(context), allSenderDomains(context), namespaceLabelsOf(context));
}

function choosesByNamespaceLabels(relay: SmtpRelay): boolean {
  return relay.spec.allowedSenderDomains?.namespaces?.from === 'Selector';
}

/** SmtpRelay controller: a Namespace's labels decide for relays that allow namespaces by selector. */
export const relayNamespaceWatch: SecondaryWatch = {
  resource: coreResources.namespace,
  mapToKeys: (_namespace, context) => allRelays(context).filter(choosesByNamespaceLabels).map(keyOf),
};

/** SenderDomain controller: a relay change concerns every domain it wants or that names it. */
export const domainRelayWatch: SecondaryWatch = {
  resource: smtpRelayResource,
  mapToKeys: (object, context) => {
    const relay = object as unknown as Relay;
    return allSenderDomains(context)
      .filter((domain) => relayWantsDomain(relay, domain))
      .map(keyOf);
  },
};

/**
 * SenderDomain controller: a SenderDomain change concerns its rivals for the same domain (one wins a
 * relay, the others are told DomainConflict), and a Namespace's labels the domains living in it.
 */
export const domainRivalWatch: SecondaryWatch = {
  resource: senderDomainResource,
  mapToKeys: (object, context) => {
    const name = (object as unknown as Domain).spec.domain.toLowerCase();
    return allSenderDomains(context)
      .filter((domain) => domain.spec.domain.toLowerCase() === name && keyOf(domain) !== keyOf(object))
      .map(keyOf);
  },
};

export const domainNamespaceWatch: SecondaryWatch = {
  resource: coreResources.namespace,
  mapToKeys: (namespace, context) =>
    context
      .cache<Domain>(senderDomainResource)
      .list({ namespace: namespace.metadata?.name ?? '' })
      .map(keyOf),
};
