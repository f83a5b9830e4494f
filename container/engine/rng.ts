/**
 * Seeded pseudo-random numbers for the simulated swarm engine (HIVE_SIM_SEED makes a run reproducible).
 * mulberry32: tiny state, fast, good enough for simulation jitter; never used for anything secret.
 */
import { mulberry32 } from '../../shared/random.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Lower-case base-36 string of the given length (ids). */
  id(length: number): string;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    range: (min, max) => min + next() * (max - min),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    id: (length) => {
      let s = '';
      for (let i = 0; i < length; i++) s += Math.floor(next() * 36).toString(36);
      return s;
    },
  };
}

/** Mixes a seed with an ordinal so every swarm gets its own independent, reproducible stream. */
export function deriveSeed(seed: number, ordinal: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (ordinal + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}
