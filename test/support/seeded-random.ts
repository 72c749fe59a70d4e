// A seeded PRNG (mulberry32) for tests that must be reproducible from a printed seed: the fuzzer, the
// fault-injecting next hop and the kill -9 loop draw every random choice from one of these.
export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(length: number): Buffer;
  /** The bytes cut into consecutive chunks of random sizes in [minSize, maxSize], as TCP might deliver them. */
  chunks(bytes: Buffer, minSize: number, maxSize: number): Buffer[];
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) throw new Error('pick() from an empty list');
      return item;
    },
    bytes(length) {
      const buffer = Buffer.alloc(length);
      for (let i = 0; i < length; i += 1) buffer[i] = int(0, 255);
      return buffer;
    },
    chunks(bytes, minSize, maxSize) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length;) {
        const size = int(minSize, maxSize);
        pieces.push(bytes.subarray(at, at + size));
        at += size;
      }
      return pieces;
    },
  };
}

/** The seed from an environment variable when set (to replay a run), else a fresh one. */
export function seedFrom(variable: string): number {
  const given = process.env[variable];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`${variable}=${given}: expected an integer seed`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** A positive number from an environment variable, or the default. */
export function numberFrom(variable: string, fallback: number): number {
  const given = process.env[variable];
  if (given === undefined || given === '') return fallback;
  const value = Number(given);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${variable}=${given}: expected a positive number`);
  return value;
}
