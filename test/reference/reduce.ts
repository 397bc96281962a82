// float64 references for src/kernels/reduce.ts: sums over the outer and inner axes of an
// [outer, C, inner] view, and their backward (a sum's gradient broadcasts dout).

/** out[c] = scale·Σ_{o,i} x[(o·C + c)·inner + i] (+ init[c]). */
export function axisSumRef(
  x: ArrayLike<number>, outer: number, C: number, inner: number, scale = 1, init?: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(C);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (o * C + c) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) s += x[base + i]!;
      out[c]! += s;
    }
  }
  for (let c = 0; c < C; c++) out[c] = scale * out[c]! + (init ? init[c]! : 0);
  return out;
}

/** d x[(o·C + c)·inner + i] = scale·dout[c]: the backward of axisSumRef. */
export function axisSumBackwardRef(dout: ArrayLike<number>, outer: number, C: number, inner: number, scale = 1): Float64Array {
  const dx = new Float64Array(outer * C * inner);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) dx.fill(scale * dout[c]!, (o * C + c) * inner, (o * C + c + 1) * inner);
  }
  return dx;
}

/** Σ|x| per output, for the worst-case summation error bound. */
export function axisAbsSumRef(x: ArrayLike<number>, outer: number, C: number, inner: number): Float64Array {
  const abs = Float64Array.from(x as ArrayLike<number>, (v) => Math.abs(v));
  return axisSumRef(abs, outer, C, inner);
}
