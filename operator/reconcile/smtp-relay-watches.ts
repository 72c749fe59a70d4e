// What the SmtpRelay reconciler watches and how a change maps back to relay keys: the relays
// (indexed by the Secrets they reference), the objects they own (by owner reference), the
// SenderDomains (to the relays that select them) and every Secret (referenced ones through the
// index, DKIM Secrets through the domains that name them, the relay-owned one by owner reference).
import { senderDomainResource, smtpRelayResource } from '../api/kinds.ts';
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import type { ControllerContext, SecondaryWatch, WatchedKind } from '../kube/controller.ts';
import { controllerKeyOf } from '../kube/owner.ts';
import { formatKey, keyOf, type KubeObject, type ResourceType } from '../kube/resource.ts';
import { managedByLabel, operatorName } from '../render/relay-names.ts';
import { relayResources } from '../render/relay-resources.ts';
import { dkimSecretName, relaySelectsDomain } from '../render/sender-domain-binding.ts';
import { referencedSecretNames } from '../status/smtp-relay-secrets.ts';

export const ownerKind = 'SmtpRelay';
const secretIndex = 'smtp-relay-secrets';
const ownedSelector = `${managedByLabel}=${operatorName}`;

/** `namespace/name` of each Secret the relay references (the index behind the Secret watch). */
function referencedSecretKeys(relay: SmtpRelay): string[] {
  const namespace = relay.metadata.namespace ?? '';
  return referencedSecretNames(relay).map((name) => formatKey({ namespace, name }));
}

export function ownedByKey(object: KubeObject): readonly string[] {
  const owner = controllerKeyOf(object, ownerKind);
  return owner === undefined ? [] : [owner];
}

export function relaysSelecting(domain: SenderDomain, context: ControllerContext): string[] {
  return context
    .cache<SmtpRelay & KubeObject>(smtpRelayResource)
    .list({ namespace: domain.metadata.namespace ?? '' })
    .filter((relay) => relaySelectsDomain(relay, domain))
    .map((relay) => keyOf(relay));
}

export const smtpRelayPrimary: WatchedKind = {
  resource: smtpRelayResource,
  indexes: { [secretIndex]: (object) => referencedSecretKeys(object as unknown as SmtpRelay) },
};

function ownedWatch(resource: ResourceType): SecondaryWatch {
  return { resource, labelSelector: ownedSelector, mapToKeys: ownedByKey };
}

export const smtpRelayWatches: readonly SecondaryWatch[] = [
  ownedWatch(relayResources.statefulSet),
  ownedWatch(relayResources.configMap),
  ownedWatch(relayResources.service),
  ownedWatch(relayResources.podDisruptionBudget),
  ownedWatch(relayResources.networkPolicy),
  {
    resource: senderDomainResource,
    mapToKeys: (object, context) => relaysSelecting(object as unknown as SenderDomain, context),
  },
  {
    // Every Secret, since the ones users reference carry no label of ours: those a relay
    // references, the DKIM Secrets of the domains it sends for, and the one it owns.
    resource: relayResources.secret,
    mapToKeys: (object, context) => {
      const keys = new Set([
        ...ownedByKey(object),
        ...context.cache(smtpRelayResource).byIndex(secretIndex, keyOf(object)).map(keyOf),
      ]);
      const namespace = object.metadata?.namespace ?? '';
      for (const domain of context
        .cache<SenderDomain & KubeObject>(senderDomainResource)
        .list({ namespace })) {
        if (dkimSecretName(domain) === object.metadata?.name) {
          for (const key of relaysSelecting(domain, context)) keys.add(key);
        }
      }
      return [...keys];
    },
  },
];
