// Free space on the spool's filesystem, checked on a timer (statfs is cheap, but not free enough for
// every RCPT). The SMTP side reads the cached answer through MessageSink.hasSpace().
import { statfs } from 'node:fs/promises';

export type FreeBytesProbe = (directory: string) => Promise<number>;

export const statfsFreeBytes: FreeBytesProbe = async (directory) => {
  const stats = await statfs(directory);
  return stats.bavail * stats.bsize;
};

export interface SpaceWatch {
  hasSpace(): boolean;
  /** Free bytes found by the last check; undefined before the first and after a failed one. */
  freeBytes(): number | undefined;
  /** Checks now (at start, and after a failed write). */
  refresh(): Promise<boolean>;
  stop(): void;
}

export function watchFreeSpace(
  directory: string,
  minFreeBytes: number,
  probe: FreeBytesProbe,
  intervalMs: number,
): SpaceWatch {
  let enough = true;
  let lastFree: number | undefined;
  const refresh = async (): Promise<boolean> => {
    try {
      lastFree = await probe(directory);
      enough = lastFree >= minFreeBytes;
    } catch {
      lastFree = undefined;
      enough = false;
    }
    return enough;
  };
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return {
    hasSpace: () => enough,
    freeBytes: () => lastFree,
    refresh,
    stop: () => {
      clearInterval(timer);
    },
  };
}
