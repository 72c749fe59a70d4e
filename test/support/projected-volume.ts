// Writes files the way the kubelet materialises a ConfigMap or Secret volume (its "atomic writer"):
// the content goes into a fresh hidden directory, `..data` is switched to it with one rename, and
// every visible name is a symlink through `..data`. A reader therefore sees the old set or the new
// set, never a mix, and a watcher sees `..data` change — exactly what the relay meets in a pod.
// Used by the tests and by the local kubelet stand-in of the demo.
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let sequence = 0;

/** Replaces the volume's content with `files` (name → content); names no longer present disappear. */
export async function projectVolume(
  dir: string,
  files: Readonly<Record<string, string | Buffer>>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  sequence += 1;
  const version = `..${new Date().toISOString().replace(/[-:.]/g, '_')}_${process.pid}_${sequence}`;
  await mkdir(join(dir, version));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, version, name), content, { mode: 0o644 });
  }
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const wanted = new Set(Object.keys(files));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..')) continue;
    if (!wanted.has(entry)) await rm(join(dir, entry), { force: true });
  }
  for (const name of wanted) {
    await symlink(join('..data', name), join(dir, name)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
}
