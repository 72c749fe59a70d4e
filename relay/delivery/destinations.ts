// Which recipients travel together: one transaction per destination (the recipient domain in MX
// mode, the smarthost otherwise). Pure.
import type { QueuedMessage } from '../queue/queued-message.ts';

export interface DestinationGroup {
  /** The domain (MX mode) or 'smarthost'; the key of connection reuse and concurrency limits. */
  readonly destination: string;
  /** Indexes into the message's recipients. */
  readonly indexes: readonly number[];
}

export function groupByDestination(
  message: QueuedMessage,
  now: number,
  viaSmarthost: boolean,
): DestinationGroup[] {
  const groups = new Map<string, number[]>();
  message.recipients.forEach((state, index) => {
    const due = (state.status === 'pending' || state.status === 'deferred') && state.nextAttemptAt <= now;
    if (!due) return;
    const destination = viaSmarthost ? 'smarthost' : domainOf(state.recipient.address);
    const indexes = groups.get(destination) ?? [];
    indexes.push(index);
    groups.set(destination, indexes);
  });
  return [...groups].map(([destination, indexes]) => ({ destination, indexes }));
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at < 0 ? '' : address.slice(at + 1)).toLowerCase().replace(/\.$/, '');
}
