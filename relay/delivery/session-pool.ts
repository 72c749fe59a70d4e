// Connection reuse with a per-destination concurrency limit: at most `limit` sessions per
// destination are in use at once; a finished session waits idle for the next transaction to the same
// destination for a short while, then says QUIT.
import type { AttemptResult } from './attempt-result.ts';
import type { SessionOpening, SmtpSession } from './smtp-session.ts';

export type PooledUse<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly result: AttemptResult };

export interface SessionPool {
  use<T>(
    destination: string,
    open: () => Promise<SessionOpening>,
    work: (session: SmtpSession) => Promise<T>,
  ): Promise<PooledUse<T>>;
  closeAll(): void;
}

interface Destination {
  active: number;
  readonly idle: { session: SmtpSession; timer: NodeJS.Timeout }[];
  readonly waiters: (() => void)[];
}

export function createSessionPool(limit: number, idleMs: number): SessionPool {
  const destinations = new Map<string, Destination>();
  const stateOf = (name: string): Destination => {
    let state = destinations.get(name);
    if (state === undefined) {
      state = { active: 0, idle: [], waiters: [] };
      destinations.set(name, state);
    }
    return state;
  };

  async function acquireSlot(state: Destination): Promise<void> {
    while (state.active >= limit) {
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    }
    state.active += 1;
  }

  function releaseSlot(name: string, state: Destination): void {
    state.active -= 1;
    state.waiters.shift()?.();
    if (state.active === 0 && state.idle.length === 0 && state.waiters.length === 0)
      destinations.delete(name);
  }

  function takeIdle(state: Destination): SmtpSession | undefined {
    for (let entry = state.idle.pop(); entry !== undefined; entry = state.idle.pop()) {
      clearTimeout(entry.timer);
      if (entry.session.reusable) return entry.session;
      entry.session.close();
    }
    return undefined;
  }

  function park(name: string, state: Destination, session: SmtpSession): void {
    if (!session.reusable) {
      session.close();
      return;
    }
    const entry = {
      session,
      timer: setTimeout(() => {
        const index = state.idle.indexOf(entry);
        if (index >= 0) state.idle.splice(index, 1);
        session.close();
        if (state.active === 0 && state.idle.length === 0 && state.waiters.length === 0)
          destinations.delete(name);
      }, idleMs),
    };
    entry.timer.unref();
    state.idle.push(entry);
  }

  return {
    async use(name, open, work) {
      const state = stateOf(name);
      await acquireSlot(state);
      try {
        let session = takeIdle(state);
        if (session === undefined) {
          const opening = await open();
          if (!opening.ok) return { ok: false, result: opening.result };
          session = opening.session;
        }
        const value = await work(session);
        park(name, state, session);
        return { ok: true, value };
      } finally {
        releaseSlot(name, state);
      }
    },
    closeAll() {
      for (const state of destinations.values()) {
        for (const entry of state.idle.splice(0)) {
          clearTimeout(entry.timer);
          entry.session.close();
        }
      }
    },
  };
}
