// The AUTH users file: `username:bcrypt-hash` lines. Plaintext passwords are refused at load, so
// a mistaken Secret is a clear error instead of a silent security hole. Parsing is pure.
import bcrypt from 'bcryptjs';

export type UserTable = ReadonlyMap<string, string>;

export type UsersResult =
  | { readonly ok: true; readonly users: UserTable }
  | { readonly ok: false; readonly errors: readonly string[] };

const bcryptHash = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const username = /^[^\s:]{1,256}$/u;

export function parseUsersFile(text: string, source: string): UsersResult {
  const users = new Map<string, string>();
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const hash = colon === -1 ? '' : line.slice(colon + 1);
    if (!username.test(name)) {
      errors.push(`${where}: the user name must be 1-256 characters without spaces or ':'`);
    } else if (!bcryptHash.test(hash)) {
      errors.push(
        `${where}: user "${name}": the password must be a bcrypt hash ($2a$/$2b$/$2y$, cost 04-31); plaintext is refused`,
      );
    } else if (users.has(name)) {
      errors.push(`${where}: user "${name}" is listed twice`);
    } else {
      users.set(name, hash);
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, users };
}

// Compared against when the user is unknown, so a wrong name costs as long as a wrong password.
const unknownUserHash = bcrypt.hashSync('no such user', 10);

export async function verifyPassword(users: UserTable, name: string, password: string): Promise<boolean> {
  const hash = users.get(name);
  const matches = await bcrypt.compare(password, hash ?? unknownUserHash);
  return hash !== undefined && matches;
}
