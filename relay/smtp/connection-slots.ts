// Who gets one of the relay's connection slots (case 31), decided the moment a connection is
// accepted, before the early-talker pause, so a connection waiting for its banner already counts:
//  1. the per-address limit first: a few addresses can hold at most their own share;
//  2. then the global limit, of which the last `reserved` slots are kept for clients in
//     policy.allowedNetworks (in-cluster senders), so untrusted clients cannot fill all of it;
//  3. from `stressThreshold` × maxConnections open connections on, the relay is under stress: the
//     command deadline of sessions that are neither trusted nor authenticated shortens (Postfix's
//     stress-dependent smtpd_timeout), so idle and trickling clients give their slots back.
// No I/O and no clock: the connection layer asks, and tells when a connection closes.

export interface SlotLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Slots only clients in policy.allowedNetworks may take; 10% of maxConnections when absent. */
  readonly reservedConnectionsForAllowedNetworks?: number;
  /** The share of maxConnections from which the relay is under stress. */
  readonly stressThreshold: number;
}

export type SlotVerdict =
  { readonly admitted: true } | { readonly admitted: false; readonly limit: 'per_ip' | 'global' };

export function reservedSlots(limits: SlotLimits): number {
  return limits.reservedConnectionsForAllowedNetworks ?? Math.floor(limits.maxConnections / 10);
}

export class ConnectionSlots {
  #open = 0;
  readonly #perAddress = new Map<string, number>();

  /** Takes a slot for the address when the limits allow it; release() gives it back. */
  admit(address: string, trusted: boolean, limits: SlotLimits): SlotVerdict {
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxConnectionsPerIp) return { admitted: false, limit: 'per_ip' };
    const ceiling = trusted ? limits.maxConnections : limits.maxConnections - reservedSlots(limits);
    if (this.#open >= ceiling) return { admitted: false, limit: 'global' };
    this.#perAddress.set(address, fromAddress + 1);
    this.#open += 1;
    return { admitted: true };
  }

  release(address: string): void {
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (fromAddress <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, fromAddress - 1);
    this.#open = Math.max(0, this.#open - 1);
  }

  open(): number {
    return this.#open;
  }

  underStress(limits: SlotLimits): boolean {
    return this.#open >= limits.stressThreshold * limits.maxConnections;
  }
}
