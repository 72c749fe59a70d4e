// Go-style durations as the API writes them (`durationPattern`: `30s`, `5m`, `1h30m`, `120h`,
// `500ms`) in milliseconds. Pure.
import { durationPattern } from './common.ts';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const wholePattern = new RegExp(durationPattern);

/** Milliseconds, or undefined when `text` is not a duration the API accepts. */
export function parseDuration(text: string): number | undefined {
  if (!wholePattern.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(amount) * unitMs[unit as keyof typeof unitMs];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}
