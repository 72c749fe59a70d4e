// Counts the relay moves on every connection or message, kept in plain numbers on that path and
// handed to their prom-client metric when it is read (the metric's `collect` hook, which a scrape
// and every `get()` run first). prom-client builds and checks a label key on each `inc()`: about
// 1–1.5 µs a call in the relay's process, five calls a message. A Map keyed by the one label's
// value costs a fraction of that. Nothing is lost or delayed for a reader: the metric is brought up
// to date before it is read.

/** The one label a tallied metric has, and what prom-client's metric offers for it. */
interface OneLabelCounter {
  inc(labels: Record<string, string>, value: number): void;
}
interface OneLabelGauge {
  set(labels: Record<string, string>, value: number): void;
}

/** Increments of a counter with one label, by the label's value, not yet added to the counter. */
export class CounterTally {
  readonly #label: string;
  #pending = new Map<string, number>();

  constructor(label: string) {
    this.#label = label;
  }

  add(value: string): void {
    this.#pending.set(value, (this.#pending.get(value) ?? 0) + 1);
  }

  /** Adds what was counted since the last call to the counter (its collect hook calls this). */
  flushInto(counter: OneLabelCounter): void {
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [value, count] of pending) counter.inc({ [this.#label]: value }, count);
  }
}

/** A gauge with one label, moved up and down by the label's value; the gauge is set when read. */
export class GaugeTally {
  readonly #label: string;
  readonly #values = new Map<string, number>();

  constructor(label: string) {
    this.#label = label;
  }

  add(value: string, by: number): void {
    this.#values.set(value, (this.#values.get(value) ?? 0) + by);
  }

  /** Sets the gauge to every value's count (its collect hook calls this). */
  setInto(gauge: OneLabelGauge): void {
    for (const [value, count] of this.#values) gauge.set({ [this.#label]: value }, count);
  }
}
