/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same generated input. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  seed: number;
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates, in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  hex(length: number): string;
}

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i);
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
    hex: (length) => Array.from({ length }, () => int(0, 15).toString(16)).join(''),
  };
}

const DEFAULT_SEED = 20_261_126;

/**
 * The seed of this run: RELIABILITY_SEED when set (to replay a failure), else a fixed default.
 * Printed, with the name of the scenario, so a failing run says how to replay it.
 */
export function reliabilityRandom(scenario: string): Random {
  const raw = process.env.RELIABILITY_SEED?.trim();
  const seed = raw ? Number.parseInt(raw, 10) : DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new Error(`RELIABILITY_SEED must be an integer, got ${raw}`);
  console.log(`[reliability] ${scenario}: seed ${seed} (replay with RELIABILITY_SEED=${seed})`);
  return seededRandom(seed);
}
