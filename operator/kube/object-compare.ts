// Comparisons of desired and live objects that decide whether a write is needed. Pure.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
  }
  return value;
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/**
 * Whether every field set in `desired` has the same value in `live`. Fields the server added
 * (defaults, status, metadata) do not count; arrays must have the same length and match element by
 * element; a desired `null` means the field must be absent. An empty object or array matches an
 * absent field: the apiserver does not store empty maps and lists (a Secret's `data: {}`), so
 * applying it again would change nothing.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === null) return live === null || live === undefined;
  if (live === undefined && typeof desired === 'object' && Object.keys(desired).length === 0) return true;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) &&
      live.length === desired.length &&
      desired.every((element, index) => isSubset(element, live[index]))
    );
  }
  if (typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const liveFields = live as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([key, value]) =>
      isSubset(value, liveFields[key]),
    );
  }
  return desired === live;
}
