// Logins verified recently, so that a client which opens a connection per message does not pay a
// bcrypt or Argon2 check (hundreds of milliseconds of CPU at the costs the docs recommend) for each
// one: as Dovecot's auth_cache does. What is kept is an HMAC of the password under a key made at
// start (never the password), per user, until `ttlMs` after the check that succeeded. Only a
// matching password takes the fast path: a wrong one is checked against the hash as before, so a
// guesser gains nothing, and failures are never cached. One cache per users table: a reload of the
// users file starts an empty one, so a changed or removed password stops working at once. Bounded:
// the oldest entry goes first.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const maxCachedLogins = 10_000;

export class LoginCache {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, { readonly mac: Buffer; readonly until: number }>();

  #mac(name: string, password: string): Buffer {
    return createHmac('sha256', this.#key).update(name).update('\0').update(password).digest();
  }

  /** True when `name` logged in with this very password less than the TTL ago. */
  hit(name: string, password: string, now: number): boolean {
    const entry = this.#entries.get(name);
    if (entry === undefined) return false;
    if (entry.until <= now) {
      this.#entries.delete(name);
      return false;
    }
    return timingSafeEqual(entry.mac, this.#mac(name, password));
  }

  /** After a check against the hash succeeded. */
  store(name: string, password: string, now: number, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(name);
    if (this.#entries.size >= maxCachedLogins) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(name, { mac: this.#mac(name, password), until: now + ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
