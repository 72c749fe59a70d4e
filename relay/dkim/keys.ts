// DKIM keys per sender domain, read at start and at each reload (config/load.ts) and checked against their declared
// algorithm so a wrong key fails the start, not every delivery.
import { createPrivateKey } from 'node:crypto';
import type { DkimAlgorithm, DkimKeyConfig } from '../config/dkim-schema.ts';

export interface DkimKey {
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  readonly privateKeyPem: string;
}

/** Lower-cased sender domain → its keys. */
export type DkimKeyring = ReadonlyMap<string, readonly DkimKey[]>;

export interface SenderDomainKeys {
  readonly domain: string;
  readonly dkim?: readonly DkimKeyConfig[];
}

export async function loadDkimKeyring(
  domains: readonly SenderDomainKeys[],
  readText: (path: string) => Promise<string>,
): Promise<DkimKeyring> {
  const keyring = new Map<string, DkimKey[]>();
  for (const { domain, dkim = [] } of domains) {
    const keys: DkimKey[] = [];
    for (const key of dkim) {
      const privateKeyPem = await readText(key.privateKeyFile);
      const problem = keyProblem(privateKeyPem, key.algorithm);
      if (problem !== undefined) {
        throw new Error(
          `senderDomains[${domain}].dkim[${key.selector}].privateKeyFile ${key.privateKeyFile}: ${problem}`,
        );
      }
      keys.push({ selector: key.selector, algorithm: key.algorithm, privateKeyPem });
    }
    if (keys.length > 0) keyring.set(domain.toLowerCase(), keys);
  }
  return keyring;
}

/** Why a PEM key cannot sign with the algorithm, or undefined when it can. */
export function keyProblem(pem: string, algorithm: DkimAlgorithm): string | undefined {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    return `not a PEM private key (${String(error)})`;
  }
  if (algorithm === 'ed25519-sha256') {
    return key.asymmetricKeyType === 'ed25519'
      ? undefined
      : `is ${key.asymmetricKeyType ?? 'unknown'}, expected ed25519`;
  }
  if (key.asymmetricKeyType !== 'rsa') return `is ${key.asymmetricKeyType ?? 'unknown'}, expected rsa`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits >= 2048 ? undefined : `RSA key has ${bits} bits, at least 2048 are required`;
}
