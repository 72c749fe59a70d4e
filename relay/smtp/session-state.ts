// What a listener's hooks remember between the commands of a session, kept apart from the hooks so
// it is explicit and tested on its own. Keyed weakly by smtp-server's own objects: a session (or a
// transaction's envelope) that is gone takes its entries with it.
import type { SMTPServerSession } from 'smtp-server';

/** What MAIL FROM decided that DATA needs: the policy's sender domain, when it named one. */
export interface TransactionState {
  readonly senderDomain: string | undefined;
}

export class SessionState {
  readonly #counted = new WeakSet<SMTPServerSession>();
  readonly #authFailures = new WeakMap<SMTPServerSession, number>();
  readonly #transactions = new WeakMap<SMTPServerSession['envelope'], TransactionState>();

  /** The session was counted as open (onConnect). */
  opened(session: SMTPServerSession): void {
    this.#counted.add(session);
  }

  /** True once for a session counted as open: the caller then counts it closed. */
  closed(session: SMTPServerSession): boolean {
    if (!this.#counted.has(session)) return false;
    this.#counted.delete(session);
    return true;
  }

  /** Counts one more failed AUTH on this connection; returns the count so far. */
  authFailed(session: SMTPServerSession): number {
    const failures = (this.#authFailures.get(session) ?? 0) + 1;
    this.#authFailures.set(session, failures);
    return failures;
  }

  /** MAIL FROM was accepted: what DATA of this transaction needs. */
  beginTransaction(envelope: SMTPServerSession['envelope'], state: TransactionState): void {
    this.#transactions.set(envelope, state);
  }

  transaction(envelope: SMTPServerSession['envelope']): TransactionState | undefined {
    return this.#transactions.get(envelope);
  }
}
