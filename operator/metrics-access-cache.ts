// Remembers the API server's answers about metrics scrapers for a short time, as controller-runtime's
// delegating authentication and authorization do (allowed for a minute, refused for 10 s): a
// Prometheus scraping every 15 s costs two reviews a minute rather than two a scrape, and a flood of
// requests with one token costs the API server nothing more. Tokens are kept only as SHA-256
// digests. Failures to ask (the API server unreachable) are not remembered. The clock is a parameter.
import { createHash } from 'node:crypto';
import type { Clock } from './kube/clock.ts';
import { bearerToken, type MetricsAccess } from './metrics-auth.ts';

export interface MetricsAccessCacheOptions {
  readonly clock: Clock;
  /** Asks the API server (metricsAccess with the operator's client). */
  readonly review: (authorization: string, path: string) => Promise<MetricsAccess>;
  readonly allowedTtlMs?: number;
  readonly deniedTtlMs?: number;
  readonly maxEntries?: number;
}

export class MetricsAccessCache {
  readonly #options: MetricsAccessCacheOptions;
  readonly #answers = new Map<string, { access: MetricsAccess; expiresAtMs: number }>();

  constructor(options: MetricsAccessCacheOptions) {
    this.#options = options;
  }

  async access(authorization: string | undefined, path: string): Promise<MetricsAccess> {
    const token = bearerToken(authorization);
    if (token === undefined || authorization === undefined) {
      return { allowed: false, status: 401, reason: 'no bearer token' };
    }
    const key = `${createHash('sha256').update(token).digest('hex')} ${path}`;
    const now = this.#options.clock.now();
    const known = this.#answers.get(key);
    if (known !== undefined && known.expiresAtMs > now) return known.access;
    this.#answers.delete(key);
    const access = await this.#options.review(authorization, path);
    const ttlMs = access.allowed
      ? (this.#options.allowedTtlMs ?? 60_000)
      : (this.#options.deniedTtlMs ?? 10_000);
    // Oldest first out: a Map iterates in insertion order.
    while (this.#answers.size >= (this.#options.maxEntries ?? 1_024)) {
      const oldest = this.#answers.keys().next();
      if (oldest.done === true) break;
      this.#answers.delete(oldest.value);
    }
    this.#answers.set(key, { access, expiresAtMs: now + ttlMs });
    return access;
  }
}
