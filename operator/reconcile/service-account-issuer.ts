// The cluster's ServiceAccount token issuer and its public keys, read from the API server (its OIDC
// discovery document and JWKS, which every ServiceAccount may read through the default
// system:service-account-issuer-discovery binding; the chart grants them to the operator too) and
// remembered for refreshMs. Relays get them in their config, so they verify tokens with no API
// token of their own. A relay using tokens is reconciled again every refreshMs, so a rotated key
// reaches its ConfigMap within that time; a failed read keeps the keys known before (a blip must
// not take every key away from the relays).
import type { PublicJwk } from '../../relay/config/token-auth-schema.ts';
import { errorMessage, type Log } from '../log.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import type { IssuerKeysResult } from '../render/relay-token-auth.ts';

export const discoveryPath = '/.well-known/openid-configuration';
export const jwksPath = '/openid/v1/jwks';

/** Only the public members the relay's schema admits: nothing else of the JWKS is passed on. */
export function publicKeys(jwks: unknown): PublicJwk[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return [];
  const members = ['kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'] as const;
  return keys
    .filter((key): key is Record<string, unknown> => typeof key === 'object' && key !== null)
    .filter((key) => (key['kty'] === 'RSA' || key['kty'] === 'EC') && typeof key['kid'] === 'string')
    .map(
      (key) =>
        Object.fromEntries(
          members.filter((member) => typeof key[member] === 'string').map((member) => [member, key[member]]),
        ) as unknown as PublicJwk,
    );
}

export class ServiceAccountIssuer {
  readonly #client: Pick<KubeClient, 'request'>;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly refreshMs: number;
  #known: { at: number; result: IssuerKeysResult } | undefined;
  #reading: Promise<IssuerKeysResult> | undefined;

  constructor(options: { client: Pick<KubeClient, 'request'>; clock: Clock; log: Log; refreshMs: number }) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#log = options.log;
    this.refreshMs = options.refreshMs;
  }

  /** The keys, read again once refreshMs has passed; concurrent callers share one read. */
  async keys(): Promise<IssuerKeysResult> {
    const known = this.#known;
    if (known !== undefined && this.#clock.now() - known.at < this.refreshMs) return known.result;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #read(): Promise<IssuerKeysResult> {
    const at = this.#clock.now();
    let result: IssuerKeysResult;
    try {
      const discovery = await this.#client.request<{ issuer?: unknown }>({
        verb: 'get',
        path: discoveryPath,
      });
      const jwks = await this.#client.request<unknown>({
        verb: 'get',
        path: jwksPath,
        accept: 'application/jwk-set+json',
      });
      const keys = publicKeys(jwks);
      result =
        typeof discovery.issuer !== 'string' || keys.length === 0
          ? { ok: false, problem: `${discoveryPath} names no issuer or ${jwksPath} holds no RSA or EC key` }
          : { ok: true, value: { issuer: discovery.issuer, keys } };
    } catch (error) {
      result = {
        ok: false,
        problem: `reading ${discoveryPath} and ${jwksPath} failed: ${errorMessage(error)}`,
      };
    }
    const previous = this.#known?.result;
    if (!result.ok && previous?.ok === true) {
      this.#log.warn(
        { problem: result.problem },
        'ServiceAccount issuer keys not refreshed; keeping the known ones',
      );
      result = previous;
    } else if (
      result.ok &&
      JSON.stringify(result.value) !== JSON.stringify(previous?.ok ? previous.value : undefined)
    ) {
      this.#log.info(
        { issuer: result.value.issuer, keyIds: result.value.keys.map((key) => key.kid) },
        'ServiceAccount issuer keys read',
      );
    }
    this.#known = { at, result };
    return result;
  }
}
