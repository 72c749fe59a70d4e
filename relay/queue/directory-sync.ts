// Group commit for directory fsyncs: while one round of fsyncs runs, new requests wait and are all
// served by the next round, one fsync per distinct directory. Many concurrent sessions thus share a
// handful of fsyncs instead of paying one each.
import { open } from 'node:fs/promises';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface DirectorySync {
  sync(directory: string): Promise<void>;
  /** Rounds run so far and directories synced (for the metrics and the benchmark). */
  readonly stats: { rounds: number; directoryFsyncs: number; requests: number };
}

export function createDirectorySync(): DirectorySync {
  let pending = new Map<string, Waiter[]>();
  let running = false;
  const stats = { rounds: 0, directoryFsyncs: 0, requests: 0 };

  async function runRounds(): Promise<void> {
    running = true;
    while (pending.size > 0) {
      const round = pending;
      pending = new Map();
      stats.rounds += 1;
      stats.directoryFsyncs += round.size;
      await Promise.all([...round].map(([directory, waiters]) => syncOne(directory, waiters)));
    }
    running = false;
  }

  return {
    stats,
    sync(directory) {
      stats.requests += 1;
      return new Promise<void>((resolve, reject) => {
        const waiters = pending.get(directory) ?? [];
        waiters.push({ resolve, reject });
        pending.set(directory, waiters);
        if (!running) void runRounds();
      });
    },
  };
}

async function syncOne(directory: string, waiters: readonly Waiter[]): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    for (const waiter of waiters) waiter.resolve();
  } catch (error) {
    for (const waiter of waiters) waiter.reject(error);
  }
}
