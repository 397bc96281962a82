// float64 reference for shaders/matmul.wgsl: C = alpha·op(A)·op(B) + beta·C0.
export function matmulRef(
  a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number,
  transA = false, transB = false, alpha = 1, beta = 0, c0?: ArrayLike<number>,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * M + m]! : a[m * K + k]!;
        const bv = transB ? b[n * K + k]! : b[k * N + n]!;
        s += av * bv;
      }
      c[m * N + n] = alpha * s + (c0 ? beta * c0[m * N + n]! : 0);
    }
  }
  return c;
}
