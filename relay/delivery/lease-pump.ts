// The delivery loop's scheduler: leases due messages from the spool while fewer than `maxInFlight`
// deliveries run, hands each to `deliver`, and sleeps until the next message falls due (or the spool
// says one became due earlier). It knows nothing of how a message is delivered.
import type { QueuedMessage } from '../queue/queued-message.ts';
import type { Spool } from '../queue/spool.ts';
import type { Clock } from '../clock.ts';

/** The longest sleep: a due time in the far future is looked at again after this. */
const maxSleepMs = 60_000;

export interface LeasePumpOptions {
  readonly spool: Pick<Spool, 'leaseDue' | 'nextDueAt' | 'onDue'>;
  readonly maxInFlight: number;
  /** Delivers one leased message; it must end the lease (complete or release) before it settles. */
  readonly deliver: (message: QueuedMessage) => Promise<void>;
  readonly now: Clock;
}

export class LeasePump {
  readonly #options: LeasePumpOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #leasing = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: LeasePumpOptions) {
    this.#options = options;
  }

  /** Deliveries in flight. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Listens to the spool and leases what is due now. */
  start(): void {
    this.#leasing = true;
    this.#unsubscribe = this.#options.spool.onDue(() => {
      this.#pump();
    });
    this.#pump();
  }

  /** Leases nothing more; deliveries in flight go on (settled() waits for them). */
  stop(): void {
    this.#leasing = false;
    this.#unsubscribe?.();
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
  }

  /** Resolves once every delivery in flight now has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.#inFlight);
  }

  #pump(): void {
    if (!this.#leasing) return;
    const room = this.#options.maxInFlight - this.#inFlight.size;
    if (room > 0) {
      for (const message of this.#options.spool.leaseDue(room)) {
        const work = this.#options.deliver(message).finally(() => {
          this.#inFlight.delete(work);
          this.#pump();
        });
        this.#inFlight.add(work);
      }
    }
    this.#scheduleWake();
  }

  #scheduleWake(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    const due = this.#options.spool.nextDueAt();
    if (due === undefined || !this.#leasing) return;
    this.#wakeTimer = setTimeout(
      () => {
        this.#pump();
      },
      Math.min(maxSleepMs, Math.max(0, due - this.#options.now())),
    );
    this.#wakeTimer.unref();
  }
}
