// The contract between the SenderDomain and SmtpRelay reconcilers (with relay-acceptance.ts, which
// relays a SenderDomain reaches): where its DKIM keys live, and which of them sign now. Pure.
//
// Generated keys live in a Secret the SenderDomain owns, named by `generatedDkimSecretName`, with
// one PEM private key per selector and algorithm (`<selector>.rsa.pem`, `<selector>.ed25519.pem`)
// and the selector that signs now in the `dkimActiveSelectorAnnotation`. Keys a user brings live in
// `spec.dkim.privateKeySecretRef` under its `rsaKey` / `ed25519Key`, and sign as `spec.dkim.selector`.
import type { DkimAlgorithm } from '../../relay/config/dkim-schema.ts';
import type { SenderDomain } from '../api/types.generated.ts';
import type { KubeObject } from '../kube/resource.ts';

export const dkimActiveSelectorAnnotation = 'mailfleet.dev/dkim-active-selector';

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

type ApiAlgorithm = SenderDomain['spec']['dkim']['algorithms'][number];

export const dkimAlgorithms: Readonly<Record<ApiAlgorithm, { relay: DkimAlgorithm; suffix: string }>> = {
  RSA2048: { relay: 'rsa-sha256', suffix: 'rsa' },
  Ed25519: { relay: 'ed25519-sha256', suffix: 'ed25519' },
};

export function generatedDkimSecretName(domain: SenderDomain): string {
  return `${domain.metadata.name ?? ''}-dkim`;
}

/** The Secret that holds the domain's DKIM keys, or undefined when DKIM is off. */
export function dkimSecretName(domain: SenderDomain): string | undefined {
  const dkim = domain.spec.dkim;
  if (!dkim.enabled) return undefined;
  return dkim.privateKeySecretRef?.name ?? generatedDkimSecretName(domain);
}

/**
 * The DNS selector (`s=`) a key of `algorithm` signs under, for the domain's key set `selector`.
 * One algorithm: the selector itself. Both: `<selector>-rsa` and `<selector>-ed25519`, since one
 * name must hold one key record (RFC 6376 §3.6.2.2 leaves several records at a name undefined).
 */
export function dkimDnsSelector(
  selector: string,
  algorithm: ApiAlgorithm,
  algorithms: readonly ApiAlgorithm[],
): string {
  return algorithms.length > 1 ? `${selector}-${dkimAlgorithms[algorithm].suffix}` : selector;
}

/** The Secret key holding the private key of `algorithm` for `selector` in a generated Secret. */
export function generatedDkimKeyName(selector: string, algorithm: ApiAlgorithm): string {
  return `${selector}.${dkimAlgorithms[algorithm].suffix}.pem`;
}

export interface SigningKey {
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** The Secret and the key in it that hold the PEM private key. */
  readonly secretName: string;
  readonly secretKey: string;
}

export type SigningKeys =
  | { readonly ok: true; readonly keys: readonly SigningKey[] }
  | { readonly ok: false; readonly reason: 'SecretNotFound' | 'SecretKeyMissing'; readonly message: string };

/**
 * The keys that sign the domain's mail now: one per configured algorithm, from `secret` (the one
 * `dkimSecretName` names, as read from the cluster, or undefined when absent). Empty when DKIM is off.
 */
export function signingKeys(domain: SenderDomain, secret: SecretObject | undefined): SigningKeys {
  const secretName = dkimSecretName(domain);
  if (secretName === undefined) return { ok: true, keys: [] };
  const where = `Secret ${domain.metadata.namespace ?? ''}/${secretName}`;
  if (secret === undefined) {
    return {
      ok: false,
      reason: 'SecretNotFound',
      message: `${where} (DKIM keys of ${domain.spec.domain}) not found`,
    };
  }
  const dkim = domain.spec.dkim;
  const own = dkim.privateKeySecretRef;
  const selector =
    own === undefined ? secret.metadata?.annotations?.[dkimActiveSelectorAnnotation] : dkim.selector;
  if (selector === undefined) {
    return {
      ok: false,
      reason: 'SecretKeyMissing',
      message: `${where} has no ${dkimActiveSelectorAnnotation} annotation: no selector signs yet`,
    };
  }
  const keys: SigningKey[] = [];
  for (const algorithm of dkim.algorithms) {
    let secretKey = generatedDkimKeyName(selector, algorithm);
    if (own !== undefined) secretKey = algorithm === 'RSA2048' ? own.rsaKey : own.ed25519Key;
    if (secret.data?.[secretKey] === undefined) {
      return {
        ok: false,
        reason: 'SecretKeyMissing',
        message: `${where} has no key "${secretKey}" (the ${algorithm} private key for selector ${selector})`,
      };
    }
    keys.push({
      selector: dkimDnsSelector(selector, algorithm, dkim.algorithms),
      algorithm: dkimAlgorithms[algorithm].relay,
      secretName,
      secretKey,
    });
  }
  return { ok: true, keys };
}
