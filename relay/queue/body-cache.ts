// Bodies of recently accepted messages kept in memory for their first delivery attempt, so the
// common case (accepted, then delivered within moments) never reads the file back. The budget bounds
// the memory: a body that does not fit is simply not kept and is read from disk like any other.
export class BodyCache {
  readonly #budgetBytes: number;
  readonly #bodies = new Map<string, Buffer>();
  #bytes = 0;

  constructor(budgetBytes: number) {
    this.#budgetBytes = budgetBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps the body when it fits in what is left of the budget; returns whether it was kept. */
  keep(queueId: string, body: Buffer): boolean {
    if (this.#bytes + body.length > this.#budgetBytes || this.#bodies.has(queueId)) return false;
    this.#bodies.set(queueId, body);
    this.#bytes += body.length;
    return true;
  }

  get(queueId: string): Buffer | undefined {
    return this.#bodies.get(queueId);
  }

  drop(queueId: string): void {
    const body = this.#bodies.get(queueId);
    if (body === undefined) return;
    this.#bodies.delete(queueId);
    this.#bytes -= body.length;
  }
}
