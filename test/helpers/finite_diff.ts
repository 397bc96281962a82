// Central finite differences in float64 of a scalar function, the oracle for every reference
// backward. Step h = 1e-6 balances truncation error O(h²) against rounding O(ε/h) ≈ 1e-10
// in float64, so agreement to ~1e-6 relative is expected of a correct analytic gradient.

/** d f / d x[i] for the listed indices (all when omitted); x is restored afterwards. */
export function numericalGrad(
  f: () => number,
  x: Float64Array,
  indices?: number[],
  h = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  const idx = indices ?? Array.from({ length: x.length }, (_, i) => i);
  for (const i of idx) {
    const orig = x[i]!;
    x[i] = orig + h;
    const fp = f();
    x[i] = orig - h;
    const fm = f();
    x[i] = orig;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Σ w·y: turns a tensor output into a scalar with random weights, so dL/dy = w. */
export function dot(y: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
  return s;
}

/** Evenly spaced sample of `count` indices in [0, n), for checking big tensors cheaply. */
export function sampleIndices(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Math.floor((i * n) / count));
  return out;
}
