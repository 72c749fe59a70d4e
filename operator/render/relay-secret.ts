// The relay-owned Secret: the DKIM private keys of the bound SenderDomains, copied from the Secrets
// that hold them, and the smarthost credentials file composed from the API's separate username and
// password keys. One Secret, mounted as one volume, so the kubelet updates every file in place.
// Pure: the source Secrets come in as read from the cache.
import type { DkimAlgorithm } from '../../relay/config/dkim-schema.ts';
import type { SenderDomain, SmtpRelay } from '../api/types.generated.ts';
import { relaySecretsDir, smarthostCredentialsFileName } from './relay-paths.ts';
import { objectNames, ownedMetadata } from './relay-names.ts';
import { dkimAlgorithms, type SecretObject, type SigningKey } from './sender-domain-binding.ts';

/** A SenderDomain the relay sends for, with the keys that sign its mail now (empty: unsigned). */
export interface BoundDomain {
  readonly senderDomain: SenderDomain;
  readonly keys: readonly SigningKey[];
  /** The Secret holding `keys`, in the SenderDomain's namespace (which may not be the relay's). */
  readonly keySecret?: SecretObject | undefined;
}

export type SecretLookup = (name: string) => SecretObject | undefined;

function suffixOf(algorithm: DkimAlgorithm): string {
  return Object.values(dkimAlgorithms).find((entry) => entry.relay === algorithm)?.suffix ?? algorithm;
}

/** The key (and file name) of a signing key in the relay-owned Secret: `<domain>.<selector>.<alg>.pem`. */
export function relaySecretKeyOf(domain: string, key: SigningKey): string {
  return `${domain}.${key.selector}.${suffixOf(key.algorithm)}.pem`;
}

export function dkimKeyPath(domain: string, key: SigningKey): string {
  return `${relaySecretsDir}/${relaySecretKeyOf(domain, key)}`;
}

function decoded(secret: SecretObject | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** `username:password`, or undefined when the Secret or a key is missing (status reports which). */
export function smarthostCredentials(relay: SmtpRelay, lookup: SecretLookup): string | undefined {
  const reference = relay.spec.delivery.smarthost?.credentialsSecretRef;
  if (reference === undefined) return undefined;
  const secret = lookup(reference.name);
  const username = decoded(secret, reference.usernameKey);
  const password = decoded(secret, reference.passwordKey);
  if (username === undefined || password === undefined) return undefined;
  return `${username.trim()}:${password.replace(/\r?\n$/, '')}\n`;
}

/** The Secret's data: every signing key present in its source Secret, and the credentials. */
export function relaySecretData(
  relay: SmtpRelay,
  domains: readonly BoundDomain[],
  lookup: SecretLookup,
): Record<string, string> {
  const data: Record<string, string> = {};
  for (const { senderDomain, keys, keySecret } of domains) {
    for (const key of keys) {
      const pem = keySecret?.data?.[key.secretKey];
      if (pem !== undefined) data[relaySecretKeyOf(senderDomain.spec.domain, key)] = pem;
    }
  }
  const credentials = smarthostCredentials(relay, lookup);
  if (credentials !== undefined) {
    data[smarthostCredentialsFileName] = Buffer.from(credentials, 'utf8').toString('base64');
  }
  return data;
}

export function renderRelaySecret(
  relay: SmtpRelay,
  domains: readonly BoundDomain[],
  lookup: SecretLookup,
): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: ownedMetadata(relay, objectNames.relaySecret(relay)),
    type: 'Opaque',
    data: relaySecretData(relay, domains, lookup),
  };
}
