// The two unit syntaxes of the API, as numbers: Kubernetes byte quantities (`30Mi`, `1Gi`, `500k`,
// or an integer) and Go-style durations (`30s`, `5m`, `1h30m`, `250ms`). The CRD patterns already
// admit only these shapes (operator/api/common.ts); anything else throws naming the value. Pure.

const byteSuffixes: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a quantity, rounded up to a whole byte as Kubernetes does. */
export function parseByteQuantity(quantity: number | string): number {
  if (typeof quantity === 'number') return Math.ceil(quantity);
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity);
  const multiplier = byteSuffixes[match?.[2] ?? ''];
  if (match === null || multiplier === undefined) {
    throw new Error(`"${quantity}" is not a byte quantity such as 1024, 512Ki, 25Mi or 10Gi`);
  }
  return Math.ceil(Number(match[1]) * multiplier);
}

const durationUnits: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds of a Go-style duration (fractions for `ms`). */
export function parseDurationSeconds(duration: string): number {
  if (!/^([0-9]+(ms|s|m|h))+$/.test(duration)) {
    throw new Error(`"${duration}" is not a duration such as 30s, 5m, 1h30m or 120h`);
  }
  let seconds = 0;
  for (const [, amount, unit] of duration.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    seconds += Number(amount) * (durationUnits[unit ?? ''] ?? 0);
  }
  return Math.round(seconds * 1000) / 1000;
}

const decimalExponents: readonly [suffix: string, exponent: number][] = [
  ['E', 18],
  ['P', 15],
  ['T', 12],
  ['G', 9],
  ['M', 6],
  ['k', 3],
  ['', 0],
  ['m', -3],
  ['u', -6],
  ['n', -9],
];
const binarySuffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/**
 * A quantity as the apiserver serialises it (resource.Quantity's canonical form), so a rendered
 * `1024Mi` compares equal to the live `1Gi` and an unchanged object is not written again: binary
 * suffixes stay binary (the largest exact one, decimal below 1Ki or for fractions), everything else
 * is decimal with the largest exact suffix down to nano.
 */
export function canonicalQuantity(quantity: number | string): string {
  const text = typeof quantity === 'number' ? String(quantity) : quantity;
  const match = /^([0-9]+)(?:\.([0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(text);
  if (match === null) throw new Error(`"${text}" is not a quantity such as 100m, 512Ki, 25Mi or 2`);
  const [, whole = '0', fraction = '', suffix = ''] = match;
  const binaryIndex = binarySuffixes.indexOf(suffix as (typeof binarySuffixes)[number]);
  const scaleNanos =
    binaryIndex > 0
      ? 1024n ** BigInt(binaryIndex) * 10n ** 9n
      : 10n ** BigInt((decimalExponents.find(([name]) => name === suffix)?.[1] ?? 0) + 9);
  // nanos = (whole.fraction) × scale, rounded up as the apiserver does.
  const digits = BigInt(`${whole}${fraction}`);
  const divisor = 10n ** BigInt(fraction.length);
  const nanos = (digits * scaleNanos + divisor - 1n) / divisor;
  if (binaryIndex > 0 && nanos % 10n ** 9n === 0n && nanos >= 1024n * 10n ** 9n) {
    const value = nanos / 10n ** 9n;
    for (let index = binarySuffixes.length - 1; index >= 0; index -= 1) {
      const unit = 1024n ** BigInt(index);
      if (value % unit === 0n) return `${String(value / unit)}${binarySuffixes[index] ?? ''}`;
    }
  }
  if (nanos === 0n) return '0';
  for (const [name, exponent] of decimalExponents) {
    const unit = 10n ** BigInt(exponent + 9);
    if (nanos % unit === 0n) return `${String(nanos / unit)}${name}`;
  }
  return `${String(nanos)}n`;
}
