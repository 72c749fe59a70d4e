// The write fence of a leader: the API client admits a write only while this replica's term is
// open, and every admitted write carries the term's AbortSignal, so a write in flight is cut off
// the moment the term ends. A term is valid until the time the elector vouches for (the start of
// its last successful renew plus the renew deadline, before any standby may take the lease), judged
// on the local clock at admission: a process that was paused (SIGSTOP, a stalled VM) past that
// time refuses its writes even before any timer of its has run again.
import type { Clock, Timer } from './clock.ts';

/**
 * How the chart's ValidatingAdmissionPolicy (charts/mailfleet/templates/leader-fence.yaml), the API
 * server's half of the fence, begins its refusal (403) of a write from a pod not holding the Lease.
 */
export const apiServerFenceRefusal = 'write refused by the leader fence';

/** A write refused because this replica does not (or no longer) lead. */
export class NotLeadingError extends Error {
  constructor(why: string) {
    super(`write refused: this replica does not lead (${why})`);
    this.name = 'NotLeadingError';
  }
}

export class LeadershipFence {
  readonly #clock: Clock;
  #term: AbortController | undefined;
  #validUntil = 0;
  #expiry: Timer | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Opens a term, or extends the open one, up to `validUntil` on the local clock. */
  extend(validUntil: number): void {
    this.#term ??= new AbortController();
    this.#validUntil = validUntil;
    this.#expiry?.cancel();
    const term = this.#term;
    this.#expiry = this.#clock.setTimer(() => {
      if (this.#term === term) this.close('renew deadline passed');
    }, validUntil - this.#clock.now());
  }

  /** Ends the term: writes in flight are aborted, later ones refused until the next term. */
  close(why: string): void {
    this.#expiry?.cancel();
    this.#expiry = undefined;
    this.#term?.abort(new NotLeadingError(why));
    this.#term = undefined;
  }

  /** The signal a write must carry; throws NotLeadingError when no valid term is open. */
  admit(): AbortSignal {
    if (this.#term === undefined) throw new NotLeadingError('no term open');
    if (this.#clock.now() >= this.#validUntil) {
      this.close('renew deadline passed');
      throw new NotLeadingError('renew deadline passed');
    }
    return this.#term.signal;
  }
}
