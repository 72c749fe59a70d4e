// The AUTH users file: `username:hash` lines, the hash bcrypt or Argon2 (password-hash.ts).
// Plaintext passwords are refused at load, so a mistaken Secret is a clear error instead of a
// silent security hole. Parsing is pure but for the random bytes of the unknown-user decoy.
import { randomBytes } from 'node:crypto';
import { decoyHash } from './decoy-hash.ts';
import { LoginCache } from './login-cache.ts';
import { parsePasswordHash, passwordMatches, type PasswordHash } from './password-hash.ts';

export type UserTable = ReadonlyMap<string, PasswordHash>;

export type UsersResult =
  | { readonly ok: true; readonly users: UserTable }
  | { readonly ok: false; readonly errors: readonly string[] };

const username = /^[^\s:]{1,256}$/u;

export function parseUsersFile(text: string, source: string): UsersResult {
  const users = new Map<string, PasswordHash>();
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const hash = parsePasswordHash(colon === -1 ? '' : line.slice(colon + 1));
    if (!username.test(name)) {
      errors.push(`${where}: the user name must be 1-256 characters without spaces or ':'`);
    } else if ('problem' in hash) {
      errors.push(`${where}: user "${name}": ${hash.problem}`);
    } else if (users.has(name)) {
      errors.push(`${where}: user "${name}" is listed twice`);
    } else {
      users.set(name, hash);
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  unknownUserHash(users);
  return { ok: true, users };
}

// Compared against when the user is unknown, so a wrong name costs as long as a wrong password
// (case 30). One per table, made when the file is parsed (a table built elsewhere, like the empty
// one of a relay without AUTH, gets its decoy on first use): a reload that changes the hashes'
// cost changes the decoy's with it. Making one hashes nothing, so the first unknown name is not slower.
const unknownUserHashes = new WeakMap<UserTable, PasswordHash>();

function unknownUserHash(users: UserTable): PasswordHash {
  let decoy = unknownUserHashes.get(users);
  if (decoy === undefined) {
    decoy = decoyHash(users.values(), randomBytes);
    unknownUserHashes.set(users, decoy);
  }
  return decoy;
}

const loginCaches = new WeakMap<UserTable, LoginCache>();

/** The recent-login cache of a users table (login-cache.ts): a reloaded table starts empty. */
export function loginCacheOf(users: UserTable): LoginCache {
  let cache = loginCaches.get(users);
  if (cache === undefined) {
    cache = new LoginCache();
    loginCaches.set(users, cache);
  }
  return cache;
}

/**
 * Checks a password against the user's hash; with `cache` (auth.loginCacheSeconds above 0), a login
 * verified less than that long ago with the same password is answered from the table's cache.
 * An unknown name is checked against the table's decoy hash, so it takes as long as a known one
 * (case 30); `testOnlyNoDecoy` refuses it at once instead, for that test's negative control only.
 */
export async function verifyPassword(
  users: UserTable,
  name: string,
  password: string,
  cache?: { readonly ttlMs: number; readonly now: number },
  testOnlyNoDecoy = false,
): Promise<boolean> {
  const hash = users.get(name);
  if (hash === undefined && testOnlyNoDecoy) return false;
  const logins = loginCacheOf(users);
  if (cache !== undefined && hash !== undefined && logins.hit(name, password, cache.now)) return true;
  const matches = await logins.once(name, password, () =>
    passwordMatches(password, hash ?? unknownUserHash(users)),
  );
  if (hash !== undefined && matches && cache !== undefined)
    logins.store(name, password, cache.now, cache.ttlMs);
  return hash !== undefined && matches;
}
