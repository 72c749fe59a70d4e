// A Clock the test moves by hand: timers fire only inside advance(), in due order.
import type { Clock, Timer } from '../../../operator/kube/clock.ts';

interface Pending {
  readonly dueAt: number;
  readonly sequence: number;
  readonly callback: () => void;
}

export class FakeClock implements Clock {
  #now = 0;
  #sequence = 0;
  readonly #pending = new Set<Pending>();

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const entry = { dueAt: this.#now + Math.max(0, delayMs), sequence: this.#sequence++, callback };
    this.#pending.add(entry);
    return { cancel: () => this.#pending.delete(entry) };
  }

  get pendingTimers(): number {
    return this.#pending.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = [...this.#pending]
        .filter((entry) => entry.dueAt <= target)
        .sort((a, b) => a.dueAt - b.dueAt || a.sequence - b.sequence)[0];
      if (next === undefined) break;
      this.#pending.delete(next);
      this.#now = next.dueAt;
      next.callback();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets every already-resolved promise chain run. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
