// The queue admin credential (case 35): a random bearer token the relay writes at start, mode 0600,
// to `<queue.adminTokenDir>/mailfleet-admin-<port>.token`, and `mailfleet-relay queue ...` reads.
// The CLI runs as the same user in the same container (kubectl exec), so it can read the file; a web
// page in a browser on the same host cannot. Naming the file after the bound port lets several
// relays share one directory, and lets the CLI find the file from the URL it talks to.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the token file goes when queue.adminTokenDir is absent: the pod's writable /tmp volume. */
export const defaultAdminTokenDir = '/tmp';

export function adminTokenPath(dir: string, port: number): string {
  return join(dir, `mailfleet-admin-${String(port)}.token`);
}

export function newAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the token to a file only this user can read. A file left by an earlier run is removed
 * first; the new one is created exclusively and never through a symbolic link, so the token cannot
 * land in a file someone else prepared.
 */
export async function writeAdminToken(path: string, token: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  const file = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await file.writeFile(`${token}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
}

export async function removeAdminToken(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

export async function readAdminToken(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/** Constant-time comparison of an `Authorization: Bearer ...` header with the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header ?? '')?.[1];
  if (presented === undefined) return false;
  const expected = Buffer.from(token);
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
