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
  const refresh = async (): Promise<boolean> => {
    try {
      enough = (await probe(directory)) >= minFreeBytes;
    } catch {
      enough = false;
    }
    return enough;
  };
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return {
    hasSpace: () => enough,
    refresh,
    stop: () => {
      clearInterval(timer);
    },
  };
}
