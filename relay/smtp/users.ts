// The AUTH users file: `username:hash` lines, the hash bcrypt or Argon2 (password-hash.ts).
// Plaintext passwords are refused at load, so a mistaken Secret is a clear error instead of a
// silent security hole. Parsing is pure.
import bcrypt from 'bcryptjs';
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
  return errors.length > 0 ? { ok: false, errors } : { ok: true, users };
}

// Compared against when the user is unknown, so a wrong name costs as long as a wrong password.
// Made on first use: a relay without AUTH, and every start, is spared the hashing.
let unknownUserHash: PasswordHash | undefined;

export async function verifyPassword(users: UserTable, name: string, password: string): Promise<boolean> {
  const hash = users.get(name);
  unknownUserHash ??= { kind: 'bcrypt', hash: await bcrypt.hash('no such user', 10) };
  const matches = await passwordMatches(password, hash ?? unknownUserHash);
  return hash !== undefined && matches;
}
