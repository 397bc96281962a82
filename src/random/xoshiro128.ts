// xoshiro128** (Blackman & Vigna), the one generator behind every seeded stream in wgml: weight
// init and shuffling (nn/init.ts), augmentation (backmix/rng.ts) and the synthetic benchmark
// (data/synth/rng.ts). 32-bit integer arithmetic only, so a stream is the same on every
// platform; the state is four u32, so a checkpoint can store it and a resumed run continues it.
// Each user seeds it its own way (kept, so that existing seeds keep their streams).

import { fmix32 } from './fmix32.js';

export type Xoshiro128State = [number, number, number, number];

export class Xoshiro128 {
  protected readonly s = new Uint32Array(4);

  protected constructor(state: ArrayLike<number>) {
    this.s.set(state);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // all-zero is a fixed point
  }

  /** Next u32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  getState(): Xoshiro128State {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new RangeError(`RNG state must be four u32 values, got ${JSON.stringify(state)}`);
    }
    if (state.every((v) => v === 0)) throw new RangeError('RNG state must not be all zero');
    this.s.set(state);
  }
}

/**
 * Four state words from a u32 seed by splitmix32 with MurmurHash3's finaliser (the seeding of
 * InitRng and the synthetic benchmark's Rng).
 */
export function splitmixMurmurState(seed: number): Xoshiro128State {
  let x = seed >>> 0;
  const next = () => fmix32((x = (x + 0x9e3779b9) >>> 0));
  return [next(), next(), next(), next()];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
