// float64 reference for src/kernels/linear.ts: y = x·Wᵀ + b (PyTorch layout).
// x: [N,in], W: [out,in], b: [out] or null, y/dy: [N,out].

export function linearRef(
  x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number> | null, N: number, I: number, O: number,
): Float64Array {
  const y = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < I; i++) s += x[n * I + i]! * W[o * I + i]!;
      y[n * O + o] = s;
    }
  }
  return y;
}

export interface LinearGradsRef {
  /** [N,in] = dy·W */
  dx: Float64Array;
  /** [out,in] = dyᵀ·x */
  dW: Float64Array;
  /** [out] = Σ_n dy */
  db: Float64Array;
}

export function linearBackwardRef(
  x: ArrayLike<number>, W: ArrayLike<number>, dy: ArrayLike<number>, N: number, I: number, O: number,
): LinearGradsRef {
  const dx = new Float64Array(N * I);
  const dW = new Float64Array(O * I);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = dy[n * O + o]!;
      db[o] += g;
      for (let i = 0; i < I; i++) {
        dx[n * I + i] += g * W[o * I + i]!;
        dW[o * I + i] += g * x[n * I + i]!;
      }
    }
  }
  return { dx, dW, db };
}
