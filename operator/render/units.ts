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
