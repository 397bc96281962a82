// Deterministic parameter initialisation, PyTorch's layer defaults:
// Conv2d and Linear weights kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), and biases
// U(−1/√fan_in, 1/√fan_in); BatchNorm weight 1, bias 0, running mean 0, running var 1.
// (torchvision's ResNet re-initialises convs with kaiming_normal_(fan_out); the BackMix
// reference's CIFAR ResNet keeps the layer defaults, so wgml does too.)

import { splitmixMurmurState, Xoshiro128 } from '../random/xoshiro128.js';

/** The init and shuffle stream: xoshiro128** seeded through splitmix32 (murmur finaliser). */
export class InitRng extends Xoshiro128 {
  constructor(seed: number) {
    super(splitmixMurmurState(seed));
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

export function uniformInit(n: number, bound: number, rng: InitRng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

/** PyTorch's default bound for a layer with `fanIn` inputs per output. */
export function defaultBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}
