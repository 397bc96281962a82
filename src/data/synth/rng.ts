// Seeded randomness for the synthetic benchmark. xoshiro128** (Blackman & Vigna) seeded
// through splitmix32 (../../random/xoshiro128.ts): fast, 32-bit only (so exact in JS numbers),
// and the same stream on every platform. Each sample gets its own generator derived from (seed, sample index), so output
// does not depend on the order in which concurrent workers render samples.

import { fmix32 } from '../../random/fmix32.js';
import { splitmixMurmurState, Xoshiro128 } from '../../random/xoshiro128.js';

/** Mixes any list of numbers and strings into a 32-bit seed (FNV-1a over parts, then fmix32). */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      // integers exactly; non-integers through their decimal text so 0.1 hashes the same everywhere
      const s = Number.isInteger(p) && Math.abs(p) < 2 ** 31 ? null : String(p);
      if (s === null) for (let k = 0; k < 4; k++) mix(p >>> (8 * k));
      else for (let k = 0; k < s.length; k++) mix(s.charCodeAt(k));
    } else {
      for (let k = 0; k < p.length; k++) mix(p.charCodeAt(k));
    }
    mix(0x1f); // separator, so ('ab','c') and ('a','bc') differ
  }
  return fmix32(h);
}

export class Rng extends Xoshiro128 {
  constructor(seed: number) {
    super(splitmixMurmurState(seed));
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.float();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple to reason about). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1], so log is finite
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Fisher–Yates, in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
