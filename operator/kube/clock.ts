// Time as a parameter: the runtime schedules through a Clock so tests can drive it by hand.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `callback` after `delayMs`; the timer never keeps the process alive on its own. */
  setTimer(callback: () => void, delayMs: number): Timer;
}

/** setTimeout's largest delay; Node fires a longer one after 1 ms instead (a busy loop). */
const maxTimerDelayMs = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    // A later wake-up would be too early, never too late: callers re-check time and re-arm.
    const handle = setTimeout(callback, Math.min(Math.max(0, delayMs), maxTimerDelayMs));
    handle.unref();
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};

/** Resolves after `delayMs` on the given clock, or at once when `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
