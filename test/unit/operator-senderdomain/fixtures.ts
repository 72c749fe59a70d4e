// SenderDomains as the apiserver serves them (defaults applied) and a recording key generator.
import { withDefaults } from '../../../operator/api/defaults.ts';
import { senderDomainSpec } from '../../../operator/api/sender-domain.ts';
import type { SenderDomain, SenderDomainSpec } from '../../../operator/api/types.generated.ts';
import {
  generateDkimKey,
  type DkimKeyAlgorithm,
  type GenerateDkimKey,
} from '../../../operator/render/sender-domain-dkim-keys.ts';

type SpecInput = Partial<Omit<SenderDomainSpec, 'dkim'>> & { dkim?: Partial<SenderDomainSpec['dkim']> };

export function senderDomain(spec: SpecInput = {}, name = 'example'): SenderDomain {
  return {
    apiVersion: 'mailfleet.dev/v1alpha1',
    kind: 'SenderDomain',
    metadata: { name, namespace: 'mail', uid: 'uid-1', generation: 1 },
    spec: withDefaults(senderDomainSpec, { domain: 'example.com', ...spec }) as SenderDomainSpec,
  };
}

/** Real keys (so they pass the key checks), made once and handed out in order, each once. */
export class KeyPool {
  readonly generated: { algorithm: DkimKeyAlgorithm; pem: string }[] = [];
  static readonly #cache: Record<DkimKeyAlgorithm, string[]> = { RSA2048: [], Ed25519: [] };
  static readonly #used: Record<DkimKeyAlgorithm, number> = { RSA2048: 0, Ed25519: 0 };

  readonly generate: GenerateDkimKey = (algorithm) => {
    const cache = KeyPool.#cache[algorithm];
    const index = KeyPool.#used[algorithm]++;
    cache[index] ??= generateDkimKey(algorithm);
    const pem = cache[index];
    this.generated.push({ algorithm, pem });
    return pem;
  };
}

export const hour = 3_600_000;
export const day = 24 * hour;
