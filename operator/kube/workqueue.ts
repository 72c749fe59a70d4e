// A keyed work queue in the manner of client-go's: a key queued twice is processed once; a key is
// never processed by two workers at once (re-added while processing, it runs again afterwards);
// at most `concurrency` keys are processed at a time; a failing key is retried after a per-key
// exponential backoff, forgotten on success; every key can be resynced periodically. Time comes
// from the injected Clock; the queue does no I/O of its own.
import { KeyedBackoff, type BackoffPolicy } from './backoff.ts';
import type { Clock, Timer } from './clock.ts';

/** What processing a key asks for next: nothing, or to be looked at again after a delay. */
export interface ProcessResult {
  readonly requeueAfterMs?: number;
}

export type ProcessKey = (key: string) => Promise<ProcessResult | undefined>;

export const processOutcomes = ['success', 'requeue', 'error'] as const;
export type ProcessOutcome = (typeof processOutcomes)[number];

export interface WorkQueueOptions {
  readonly clock: Clock;
  readonly concurrency: number;
  readonly backoff: BackoffPolicy;
  /** Called after each key is processed, with how long it took on the clock. */
  readonly onProcessed?: (key: string, outcome: ProcessOutcome, durationMs: number, error?: unknown) => void;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #backoff: KeyedBackoff;
  /** Keys waiting for a worker, in arrival order. */
  readonly #queued = new Set<string>();
  /** Keys that must be processed (again): queued, or re-added while processing. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, { readonly dueAt: number; readonly timer: Timer }>();
  #process: ProcessKey | undefined;
  #shuttingDown = false;
  #idleWaiters: (() => void)[] = [];
  #resyncTimer: Timer | undefined;

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`work queue concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#options = options;
    this.#backoff = new KeyedBackoff(options.backoff);
  }

  /** Keys waiting for a worker (not counting those being processed or waiting for a delay). */
  get depth(): number {
    return this.#queued.size;
  }

  get processingCount(): number {
    return this.#processing.size;
  }

  failures(key: string): number {
    return this.#backoff.failures(key);
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (!this.#processing.has(key)) this.#queued.add(key);
    this.#pump();
  }

  /** Adds the key after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.#options.clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.dueAt <= dueAt) return;
      pending.timer.cancel();
    }
    const timer = this.#options.clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { dueAt, timer });
  }

  /** Starts processing queued keys with `process`; keys added before start wait for it. */
  start(process: ProcessKey): void {
    if (this.#process !== undefined) throw new Error('the work queue is already started');
    this.#process = process;
    this.#pump();
  }

  /** Adds every key `keys()` returns now and then every `periodMs` until shutdown. */
  resyncEvery(periodMs: number, keys: () => Iterable<string>): void {
    const tick = () => {
      for (const key of keys()) this.add(key);
      if (!this.#shuttingDown) this.#resyncTimer = this.#options.clock.setTimer(tick, periodMs);
    };
    this.#resyncTimer = this.#options.clock.setTimer(tick, periodMs);
  }

  /** Stops taking keys, drops those waiting, and resolves once the keys in progress are done. */
  async shutDown(): Promise<void> {
    this.#shuttingDown = true;
    this.#resyncTimer?.cancel();
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    this.#queued.clear();
    this.#dirty.clear();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    const process = this.#process;
    if (process === undefined || this.#shuttingDown) return;
    while (this.#processing.size < this.#options.concurrency) {
      const key = this.#queued.values().next();
      if (key.done) return;
      this.#queued.delete(key.value);
      this.#dirty.delete(key.value);
      this.#processing.add(key.value);
      void this.#run(process, key.value);
    }
  }

  async #run(process: ProcessKey, key: string): Promise<void> {
    const started = this.#options.clock.now();
    let outcome: ProcessOutcome;
    let failure: unknown;
    let retryAfterMs: number;
    try {
      const result = await process(key);
      this.#backoff.forget(key);
      retryAfterMs = result?.requeueAfterMs ?? 0;
      outcome = retryAfterMs > 0 ? 'requeue' : 'success';
    } catch (error) {
      failure = error;
      outcome = 'error';
      retryAfterMs = this.#backoff.next(key);
    }
    this.#processing.delete(key);
    this.#options.onProcessed?.(key, outcome, this.#options.clock.now() - started, failure);
    if (this.#shuttingDown) {
      if (this.#processing.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      return;
    }
    if (this.#dirty.has(key)) this.#queued.add(key);
    if (retryAfterMs > 0) this.addAfter(key, retryAfterMs);
    this.#pump();
  }
}
