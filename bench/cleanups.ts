// What a benchmark run started and must stop, stopped in reverse order whatever happens.
export class Cleanups {
  #stops: (() => Promise<void>)[] = [];

  add(stop: () => Promise<void>): () => Promise<void> {
    let stopping: Promise<void> | undefined;
    const once = (): Promise<void> => (stopping ??= stop());
    this.#stops.push(once);
    return once;
  }

  async runAll(): Promise<void> {
    for (const stop of this.#stops.reverse()) await stop().catch(() => undefined);
    this.#stops = [];
  }
}
