// AUTH failures throttle the address they come from, never the user they aim at (case 29). Keying
// failures on the user name alone let anyone lock a user out from everywhere with a few wrong
// passwords; here they are counted per client address and per (client address, user):
//  - each failure reply is held back by a delay that grows with the address's recent failures,
//    so guessing gets slower and slower while a person's typo or two is answered at once;
//  - an address whose failures run past its bucket (auth.failuresPerClientIp), or that keeps
//    failing for one user (auth.failuresPerUser, per address), is refused with 454 4.7.0 until the
//    bucket refills, even with the right password; the same user from elsewhere is not.
// An IPv6 client is counted by its /64, which one host or customer usually holds whole: per single
// address, an attacker there would have 2^64 fresh starts. Only failure replies wait, so the user's own correct logins are never slowed. Pure: the buckets
// and the time come in; the caller does the waiting.
import type { TokenBuckets } from './rate-limit.ts';

/** Failures an address may make before its replies are slowed: a person's typos go unpunished. */
export const undelayedFailures = 2;
export const firstFailureDelayMs = 250;
/** Stays well inside any client's reply timeout (RFC 5321 4.5.3.2 suggests minutes). */
export const maxFailureDelayMs = 4000;

export interface AuthFailureBuckets {
  readonly perAddress: TokenBuckets;
  readonly perAddressUser: TokenBuckets;
}

/** Which bucket refuses this attempt (the `key` label of rate-limit hits), or undefined to go on. */
export function authRefusal(
  buckets: AuthFailureBuckets,
  address: string,
  user: string,
  nowMs: number,
): 'auth_ip' | 'auth_user' | undefined {
  const client = clientKey(address);
  if (!buckets.perAddress.peek(client, nowMs)) return 'auth_ip';
  if (!buckets.perAddressUser.peek(clientUserKey(client, user), nowMs)) return 'auth_user';
  return undefined;
}

/** Counts a failed attempt; returns how long to hold back its reply. */
export function recordAuthFailure(
  buckets: AuthFailureBuckets,
  address: string,
  user: string,
  nowMs: number,
): number {
  const client = clientKey(address);
  // Failures not yet forgiven by the refill, a fraction counting as a whole one.
  const earlier = Math.ceil(buckets.perAddress.spent(client, nowMs) - 1e-9);
  buckets.perAddress.take(client, nowMs);
  buckets.perAddressUser.take(clientUserKey(client, user), nowMs);
  return failureDelayMs(earlier);
}

/** 0 for the first failures, then 250 ms doubling with each further one, up to 4 s. */
export function failureDelayMs(earlierFailures: number): number {
  const slowed = earlierFailures - undelayedFailures;
  if (slowed < 0) return 0;
  return Math.min(maxFailureDelayMs, firstFailureDelayMs * 2 ** Math.min(slowed, 16));
}

/** A client key holds no space, so the first space ends it whatever the user name holds. */
function clientUserKey(client: string, user: string): string {
  return `${client} ${user}`;
}

const mappedIpv4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** What failures are counted by: an IPv4 address (also when IPv4-mapped), or an IPv6 /64. */
export function clientKey(address: string): string {
  const mapped = mappedIpv4.exec(address);
  if (mapped) return mapped[1] ?? address;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.replace(/%.*$/, '').split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail stands for two groups; it never reaches the first four.
  const tailSize = tailGroups.reduce((size, group) => size + (group.includes('.') ? 2 : 1), 0);
  const zeros: string[] = Array.from({ length: Math.max(0, 8 - headGroups.length - tailSize) }, () => '0');
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
