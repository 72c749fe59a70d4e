// Token buckets keyed by client IP, user or sender domain. Time is a parameter, never read here.
import type { TokenBucketConfig } from '../config/types.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBuckets {
  readonly #config: TokenBucketConfig;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor(config: TokenBucketConfig, maxKeys = 100_000) {
    this.#config = config;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token for `key` at time `nowMs`; false when the bucket is empty. */
  take(key: string, nowMs: number): boolean {
    const bucket = this.#refilled(key, nowMs);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Whether a token is available, without taking it. */
  peek(key: string, nowMs: number): boolean {
    return this.#refilled(key, nowMs).tokens >= 1;
  }

  /** Tokens taken from `key`'s bucket and not yet refilled at `nowMs` (0 for a full or unknown bucket). */
  spent(key: string, nowMs: number): number {
    return this.#config.burst - this.#refilled(key, nowMs).tokens;
  }

  #refilled(key: string, nowMs: number): Bucket {
    const existing = this.#buckets.get(key);
    const perMs = this.#config.perMinute / 60_000;
    if (!existing) {
      if (this.#buckets.size >= this.#maxKeys) this.#evictFull(nowMs);
      const fresh = { tokens: this.#config.burst, updatedAt: nowMs };
      this.#buckets.set(key, fresh);
      return fresh;
    }
    const elapsed = Math.max(0, nowMs - existing.updatedAt);
    existing.tokens = Math.min(this.#config.burst, existing.tokens + elapsed * perMs);
    existing.updatedAt = nowMs;
    return existing;
  }

  /** Forgets buckets that have refilled completely: they carry no state. Bounds memory under many keys. */
  #evictFull(nowMs: number): void {
    const perMs = this.#config.perMinute / 60_000;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (nowMs - bucket.updatedAt) * perMs >= this.#config.burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxKeys) this.#buckets.clear();
  }
}
