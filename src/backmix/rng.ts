// Seeded host randomness for augmentation: xoshiro128** (Blackman & Vigna) seeded through
// splitmix32. 32-bit integer arithmetic only, so the stream is identical on every platform, and
// the whole state is four u32s, so a checkpoint can store it and a resumed run continues the
// exact same sequence of augmentations.

import { fmix32 } from '../random/fmix32.js';
import { Xoshiro128, type Xoshiro128State } from '../random/xoshiro128.js';

/** The serialisable state of an `AugRng` (four u32, never all zero). */
export type RngState = Xoshiro128State;

/** Mixes a seed (any safe integer) and a stream name into one u32, so streams are independent. */
export function streamSeed(seed: number, stream: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  for (let k = 0; k < 4; k++) mix(lo >>> (8 * k));
  for (let k = 0; k < 4; k++) mix(hi >>> (8 * k));
  for (let k = 0; k < stream.length; k++) mix(stream.charCodeAt(k));
  return fmix32(h);
}

/** Four state words from a u32 seed by splitmix32 (Hash Prospector's constants). */
function splitmix32State(seed: number): RngState {
  let x = seed >>> 0;
  const next = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let t = x ^ (x >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return t >>> 0;
  };
  return [next(), next(), next(), next()];
}

export class AugRng extends Xoshiro128 {
  constructor(seed: number) {
    super(splitmix32State(seed));
  }

  /** A generator for `stream` of `seed` (e.g. 'augment', 'cutmix', 'noise', 'subset'). */
  static forStream(seed: number, stream: string): AugRng {
    return new AugRng(streamSeed(seed, stream));
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n), without modulo bias (Lemire's multiply-shift with rejection). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 31) throw new RangeError(`int(n): n must be an integer in 1..2^31, got ${n}`);
    if (n === 1) {
      this.nextU32();
      return 0;
    }
    // threshold = 2^32 mod n: draws below it would over-represent small results.
    const threshold = (2 ** 32 - n) % n;
    for (;;) {
      const r = this.nextU32();
      // r·n as a 64-bit product: the high word is the result, the low word decides rejection.
      if (Math.imul(r, n) >>> 0 >= threshold) return mulHi(r, n);
    }
  }
}

/** High 32 bits of the 64-bit product of two u32 (exact, via 16-bit halves). */
function mulHi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const hihi = aHi * bHi;
  const mid = (lolo >>> 16) + (hilo & 0xffff) + (lohi & 0xffff);
  return (hihi + (hilo >>> 16) + (lohi >>> 16) + Math.floor(mid / 65536)) >>> 0;
}
