// Deterministic parameter initialisation, PyTorch's layer defaults:
// Conv2d and Linear weights kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), and biases
// U(−1/√fan_in, 1/√fan_in); BatchNorm weight 1, bias 0, running mean 0, running var 1.
// (torchvision's ResNet re-initialises convs with kaiming_normal_(fan_out); the BackMix
// reference's CIFAR ResNet keeps the layer defaults, so wgml does too.)

/** xoshiro128** seeded through splitmix32: fast, small state, good enough for init and shuffles. */
export class InitRng {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  getState(): number[] {
    return [...this.s];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4) throw new RangeError(`InitRng: state needs 4 words, got ${state.length}`);
    this.s.set(state);
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

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
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
