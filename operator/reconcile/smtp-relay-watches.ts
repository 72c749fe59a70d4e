// What the SmtpRelay reconciler watches and how a change maps back to relay keys: the relays
// (indexed by the Secrets they reference), the objects they own (by owner reference), the
// SenderDomains (to the relays that select them, of any namespace they allow), the Namespaces (whose
// labels some relays choose SenderDomains by) and the Secrets it caches (secret-references.ts:
// owned ones by label, referenced ones by name), mapped back to relays: referenced ones through the
// index, DKIM Secrets through the domains that name them, the relay-owned one by owner reference.
import { senderDomainResource, smtpRelayResource } from '../api/kinds.ts';
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import type { SecondaryWatch, WatchedKind } from '../kube/controller.ts';
import { controllerKeyOf } from '../kube/owner.ts';
import { keyOf, type KubeObject, type ResourceType } from '../kube/resource.ts';
import { cachedOwnedRelayResources, relayResources } from '../render/relay-resources.ts';
import { dkimSecretName } from '../render/sender-domain-binding.ts';
import {
  ownedSecretSelector,
  referencedSecretKeys,
  senderDomainSecretReferences,
  smtpRelaySecretReferences,
} from './secret-references.ts';
import { relayNamespaceWatch, relaysSelecting } from './tenancy-watches.ts';

export const ownerKind = 'SmtpRelay';
const secretIndex = 'smtp-relay-secrets';
const ownedSelector = ownedSecretSelector;

export function ownedByKey(object: KubeObject): readonly string[] {
  const owner = controllerKeyOf(object, ownerKind);
  return owner === undefined ? [] : [owner];
}

export const smtpRelayPrimary: WatchedKind = {
  resource: smtpRelayResource,
  indexes: { [secretIndex]: (object) => referencedSecretKeys(object as unknown as SmtpRelay) },
  references: [smtpRelaySecretReferences],
};

function ownedWatch(resource: ResourceType): SecondaryWatch {
  return { resource, labelSelector: ownedSelector, mapToKeys: ownedByKey };
}

export const smtpRelayWatches: readonly SecondaryWatch[] = [
  // The relay-owned Secret is watched with the other Secrets below.
  ...cachedOwnedRelayResources.filter((resource) => resource !== relayResources.secret).map(ownedWatch),
  relayNamespaceWatch,
  {
    resource: senderDomainResource,
    references: [senderDomainSecretReferences],
    mapToKeys: (object, context) => relaysSelecting(object as unknown as SenderDomain, context),
  },
  {
    // Those a relay references, the DKIM Secrets of the domains it sends for, and the one it owns.
    resource: relayResources.secret,
    labelSelector: ownedSecretSelector,
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
