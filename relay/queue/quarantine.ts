// Spool files the relay does not understand are moved aside, never deleted: an older relay after a
// rollback cannot read what a newer one wrote, and deleting would lose mail that a later roll
// forward could still deliver (Postfix moves such files to corrupt/ for the same reason). The
// quarantine lives inside the spool, so the move is a rename on one filesystem, made durable by
// fsyncing both directories. A quarantined file is `quarantine/<reason>/<original name>`.
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { shardOf } from './queue-id.ts';
import { segmentsDirectoryName, syncDirectory } from './segment-log.ts';

export const quarantineDirectoryName = 'quarantine';

/** Why a file was quarantined; the metric's `reason` label, so the list is closed. */
export const quarantineReasons = ['unparseable', 'future_version'] as const;
export type QuarantineReason = (typeof quarantineReasons)[number];

export interface QuarantinedFile {
  /** `<reason>/<file name>`: what `queue quarantine restore` takes. */
  readonly name: string;
  readonly reason: QuarantineReason;
  readonly size: number;
  readonly quarantinedAt: string;
}

const restorableName = /^(unparseable|future_version)\/([0-9a-f]{2}[0-9a-z]{8,24}\.(?:msg|log)|\d{16}\.seg)$/;

/** Whether a string names a quarantined file (also what keeps admin input out of other paths). */
export function isQuarantineName(value: string): boolean {
  return restorableName.test(value);
}

/** Moves one spool file into the quarantine; returns its quarantine name. */
export async function quarantineFile(
  spoolDir: string,
  path: string,
  fileName: string,
  reason: QuarantineReason,
): Promise<string> {
  const target = join(spoolDir, quarantineDirectoryName, reason);
  await mkdir(target, { recursive: true });
  const destination = join(target, fileName);
  if (await exists(destination)) {
    throw new Error(
      `cannot quarantine ${path}: ${destination} already exists; move one of them away by hand`,
    );
  }
  await rename(path, destination);
  await syncDirectory(target);
  await syncDirectory(join(path, '..'));
  return `${reason}/${fileName}`;
}

export async function listQuarantine(spoolDir: string): Promise<QuarantinedFile[]> {
  const files: QuarantinedFile[] = [];
  for (const reason of quarantineReasons) {
    const directory = join(spoolDir, quarantineDirectoryName, reason);
    const names = await readdir(directory).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
    for (const name of names.sort()) {
      const info = await stat(join(directory, name));
      files.push({
        name: `${reason}/${name}`,
        reason,
        size: info.size,
        quarantinedAt: info.ctime.toISOString(),
      });
    }
  }
  return files;
}

export type RestoreResult =
  | { readonly ok: true; readonly restoredTo: string }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly message: string };

/**
 * Moves a quarantined file back where the spool keeps it. The running relay does not read it: the
 * start-up recovery is the only full scan, so the file is queued (or quarantined again, if this relay
 * still cannot read it) at the next start.
 */
export async function restoreQuarantined(spoolDir: string, name: string): Promise<RestoreResult> {
  if (!isQuarantineName(name)) {
    return {
      ok: false,
      status: 400,
      message: `${JSON.stringify(name)} is not a quarantined file name (<reason>/<file>, as queue quarantine list shows)`,
    };
  }
  const source = join(spoolDir, quarantineDirectoryName, name);
  if (!(await exists(source))) return { ok: false, status: 404, message: `${source} does not exist` };
  const fileName = name.slice(name.indexOf('/') + 1);
  const targetDir = join(spoolDir, fileName.endsWith('.seg') ? segmentsDirectoryName : shardOf(fileName));
  const destination = join(targetDir, fileName);
  if (await exists(destination)) {
    return { ok: false, status: 409, message: `cannot restore ${source}: ${destination} already exists` };
  }
  await mkdir(targetDir, { recursive: true });
  await rename(source, destination);
  await syncDirectory(targetDir);
  await syncDirectory(join(source, '..'));
  return { ok: true, restoredTo: destination };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    },
  );
}

/** The quarantine of one spool, with a count per reason kept for the metric (scraped often, read once). */
export interface Quarantine {
  counts(): Readonly<Record<QuarantineReason, number>>;
  list(): Promise<QuarantinedFile[]>;
  restore(name: string): Promise<RestoreResult>;
}

export async function openQuarantine(spoolDir: string): Promise<Quarantine> {
  const counts: Record<QuarantineReason, number> = { unparseable: 0, future_version: 0 };
  for (const file of await listQuarantine(spoolDir)) counts[file.reason] += 1;
  return {
    counts: () => counts,
    list: () => listQuarantine(spoolDir),
    async restore(name) {
      const result = await restoreQuarantined(spoolDir, name);
      if (result.ok) counts[name.slice(0, name.indexOf('/')) as QuarantineReason] -= 1;
      return result;
    },
  };
}
