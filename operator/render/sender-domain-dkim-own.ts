// Keys a user brings (spec.dkim.privateKeySecretRef): never generated, only checked. Pure.
import type { SenderDomain } from '../api/types.generated.ts';
import type { SecretObject } from './sender-domain-binding.ts';
import { decodeSecretValue, dkimKeyProblem } from './sender-domain-dkim-keys.ts';
import type { PublishedSelector } from './sender-domain-dkim-plan.ts';

export type OwnDkimKeys =
  | { readonly ok: true; readonly published: readonly PublishedSelector[] }
  | {
      readonly ok: false;
      readonly reason: 'SecretNotFound' | 'SecretKeyMissing' | 'KeyInvalid';
      readonly message: string;
    };

/** The user's keys for `spec.dkim.selector`, from `secret` (undefined when it does not exist). */
export function ownDkimKeys(domain: SenderDomain, secret: SecretObject | undefined): OwnDkimKeys {
  const { selector, algorithms, privateKeySecretRef: ref } = domain.spec.dkim;
  if (ref === undefined) throw new Error('ownDkimKeys needs spec.dkim.privateKeySecretRef');
  const where = `Secret ${domain.metadata.namespace ?? ''}/${ref.name}`;
  if (secret === undefined) {
    return {
      ok: false,
      reason: 'SecretNotFound',
      message: `${where} (spec.dkim.privateKeySecretRef.name) not found: create it with the PEM private keys of selector ${selector}`,
    };
  }
  const keys: PublishedSelector['keys'][number][] = [];
  for (const algorithm of algorithms) {
    const [field, key] = algorithm === 'RSA2048' ? ['rsaKey', ref.rsaKey] : ['ed25519Key', ref.ed25519Key];
    const encoded = secret.data?.[key];
    if (encoded === undefined) {
      return {
        ok: false,
        reason: 'SecretKeyMissing',
        message: `${where} has no key "${key}" (spec.dkim.privateKeySecretRef.${field}): the ${algorithm} private key of selector ${selector}`,
      };
    }
    const privateKeyPem = decodeSecretValue(encoded);
    const problem = dkimKeyProblem(privateKeyPem, algorithm);
    if (problem !== undefined) {
      return {
        ok: false,
        reason: 'KeyInvalid',
        message: `${where} key "${key}" (spec.dkim.privateKeySecretRef.${field}) cannot sign as ${algorithm}: ${problem}`,
      };
    }
    keys.push({ algorithm, privateKeyPem });
  }
  return { ok: true, published: [{ selector, role: 'active', keys }] };
}
