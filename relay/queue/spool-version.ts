// The spool's format version, in `<queue.dir>/FORMAT` (one integer), written at the first start. A
// relay that finds a newer version refuses to start rather than misread or delete what a newer
// relay wrote (a rollback); told to, it quarantines every file of that spool and starts empty.
import { open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { quarantineFile } from './quarantine.ts';
import { isQueueId, shardCount, shardName } from './queue-id.ts';
import { spoolFormatVersion } from './spool-format.ts';
import { segmentSequence, segmentsDirectoryName, syncDirectory } from './segment-log.ts';

export const formatFileName = 'FORMAT';

export class SpoolFormatError extends Error {
  override readonly name = 'SpoolFormatError';
}

/** Ensures the spool is one this relay reads; returns how many files it quarantined. */
export async function checkSpoolFormat(dir: string, quarantineNewer: boolean): Promise<number> {
  const path = join(dir, formatFileName);
  const found = await readVersion(path);
  if (found === spoolFormatVersion) return 0;
  if (found === undefined) {
    await writeVersion(dir);
    return 0;
  }
  if (found < spoolFormatVersion) {
    // Version 1 is the first; an older number can only be a hand edit.
    throw new SpoolFormatError(
      `queue.dir: ${path} says spool format ${String(found)}, older than any relay wrote; this relay reads format ${String(spoolFormatVersion)}`,
    );
  }
  if (!quarantineNewer) {
    throw new SpoolFormatError(
      `queue.dir: ${path} says spool format ${String(found)}, newer than this relay reads (format ${String(spoolFormatVersion)}): the spool was written by a newer relay. Roll the relay forward again, or set queue.quarantineNewerSpool: true to move every spool file to ${join(dir, 'quarantine', 'future_version')} and start with an empty queue`,
    );
  }
  const moved = await quarantineSpool(dir);
  await writeVersion(dir);
  return moved;
}

async function readVersion(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const trimmed = text.trim();
  if (!/^[1-9]\d{0,8}$/.test(trimmed)) {
    throw new SpoolFormatError(
      `queue.dir: ${path} must hold a spool format version (a positive integer), found ${JSON.stringify(trimmed.slice(0, 40))}`,
    );
  }
  return Number(trimmed);
}

/** fsync → rename → directory fsync, so the version file is either absent or whole. */
async function writeVersion(dir: string): Promise<void> {
  const temporary = join(dir, `${formatFileName}.tmp`);
  const handle = await open(temporary, 'w', 0o644);
  try {
    await handle.writeFile(`${String(spoolFormatVersion)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(dir, formatFileName));
  await syncDirectory(dir);
}

/** Moves every message, state log and segment of a newer spool into quarantine/future_version. */
async function quarantineSpool(dir: string): Promise<number> {
  let moved = 0;
  const shards = Array.from({ length: shardCount }, (_, shard) => shardName(shard));
  for (const shard of shards) {
    for (const name of await readdir(join(dir, shard))) {
      // A .tmp is a DATA never acknowledged (the 250 follows the rename), so recovery deletes it.
      if (!isQueueId(name.replace(/\.(msg|log)$/, ''))) continue;
      await quarantineFile(dir, join(dir, shard, name), name, 'future_version');
      moved += 1;
    }
  }
  const segments = join(dir, segmentsDirectoryName);
  for (const name of await readdir(segments).catch(() => [])) {
    if (segmentSequence(name) === undefined) continue;
    await quarantineFile(dir, join(segments, name), name, 'future_version');
    moved += 1;
  }
  return moved;
}
