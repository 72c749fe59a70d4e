// Logins verified recently, so that a client which opens a connection per message does not pay a
// bcrypt or Argon2 check (hundreds of milliseconds of CPU at the costs the docs recommend) for each
// one: as Dovecot's auth_cache does. What is kept is an HMAC of the password under a key made at
// start (never the password), per user, until `ttlMs` after the check that succeeded. Only a
// matching password takes the fast path: a wrong one is checked against the hash as before, so a
// guesser gains nothing, and failures are never cached. One cache per users table: a reload of the
// users file starts an empty one, so a changed or removed password stops working at once. Bounded:
// the oldest entry goes first. Logins that arrive together with the same name and password share
// one check of the hash (`once`): after a restart, or when an entry runs out, a client that opens
// twenty connections at once pays one check, not twenty (each blocks the relay's main thread for a
// time).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const maxCachedLogins = 10_000;

export class LoginCache {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, { readonly mac: Buffer; readonly until: number }>();
  /** Checks of the hash under way, by the HMAC of name and password. */
  readonly #checking = new Map<string, Promise<boolean>>();

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

  /**
   * Runs `check` for this name and password, or joins the one already running for them: the same
   * inputs give the same answer, wrong passwords included. Nothing is kept once it has settled.
   */
  once(name: string, password: string, check: () => Promise<boolean>): Promise<boolean> {
    const key = this.#mac(name, password).toString('base64');
    const running = this.#checking.get(key);
    if (running !== undefined) return running;
    const checking = check().finally(() => {
      this.#checking.delete(key);
    });
    this.#checking.set(key, checking);
    return checking;
  }

  get size(): number {
    return this.#entries.size;
  }
}
