// Which Secrets the operator caches (case 37): the ones it owns, found by their managed-by label, and
// the ones an SmtpRelay or SenderDomain names, each watched by name while something names it. Never
// every Secret: a cluster's unrelated Secrets (Helm releases, tokens) stay out of the operator's
// memory and out of reach of a leak of its cache.
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import type { ObjectReferences } from '../kube/controller.ts';
import { coreResources, formatKey, type KubeObject } from '../kube/resource.ts';
import { managedByLabel, operatorName } from '../render/relay-names.ts';
import { referencedSecretNames } from '../status/smtp-relay-secrets.ts';

/** The label selector of the Secrets the operator creates (and of every other object it owns). */
export const ownedSecretSelector = `${managedByLabel}=${operatorName}`;

/** `namespace/name` of the Secret holding the DKIM keys a SenderDomain's user brings, if any. */
export function ownKeySecretKey(domain: SenderDomain): string | undefined {
  const ref = domain.spec.dkim.privateKeySecretRef;
  if (!domain.spec.dkim.enabled || ref === undefined) return undefined;
  return formatKey({ namespace: domain.metadata.namespace ?? '', name: ref.name });
}

/** `namespace/name` of each Secret the relay references: TLS, users, smarthost credentials. */
export function referencedSecretKeys(relay: SmtpRelay): string[] {
  const namespace = relay.metadata.namespace ?? '';
  return referencedSecretNames(relay).map((name) => formatKey({ namespace, name }));
}

export const smtpRelaySecretReferences: ObjectReferences = {
  resource: coreResources.secret,
  keysOf: (object: KubeObject) => referencedSecretKeys(object as unknown as SmtpRelay),
};

export const senderDomainSecretReferences: ObjectReferences = {
  resource: coreResources.secret,
  keysOf: (object: KubeObject) => {
    const key = ownKeySecretKey(object as unknown as SenderDomain);
    return key === undefined ? [] : [key];
  },
};
