// A full spool disk, as the SMTP side sees it: SpoolFullError, answered 452 4.3.1
// (relay/smtp/receive-body.ts recognises it by name).
import type { SpaceWatch } from './disk-space.ts';

export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

/** The filesystem (or the quota) is full: the same condition as hasSpace() false, found by a write. */
export function isOutOfSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A write that failed for want of space is a SpoolFullError, and space is checked anew; other errors pass. */
export function spoolWriteError(
  error: unknown,
  dir: string,
  queueId: string,
  space: Pick<SpaceWatch, 'refresh'>,
): unknown {
  if (!isOutOfSpace(error)) return error;
  void space.refresh();
  return new SpoolFullError(`spool ${dir} ran out of space while writing ${queueId}`, { cause: error });
}
