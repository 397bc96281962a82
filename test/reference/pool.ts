// float64 references for src/kernels/pool.ts: max pooling with argmax indices (PyTorch's CPU
// rules) and global average pooling, forward and backward. NCHW.

export type Shape4 = readonly [number, number, number, number];

export interface PoolRefParams {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export function poolOutSize(shape: Shape4, p: PoolRefParams): [number, number] {
  return [
    Math.floor((shape[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0]) + 1,
    Math.floor((shape[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1]) + 1,
  ];
}

/**
 * y[n,c,oh,ow] = max over the window (padding = −inf); idx = h·W + w of the first maximum in
 * row-major window order (strictly greater replaces; NaN replaces), starting from the window's
 * first in-bounds position — PyTorch's CPU max_pool2d_with_indices.
 */
export function maxPool2dRef(x: ArrayLike<number>, shape: Shape4, p: PoolRefParams): { y: Float64Array; idx: Uint32Array } {
  const [N, C, H, W] = shape;
  const [OH, OW] = poolOutSize(shape, p);
  const y = new Float64Array(N * C * OH * OW);
  const idx = new Uint32Array(N * C * OH * OW);
  for (let pl = 0; pl < N * C; pl++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * p.stride[0] - p.padding[0];
        const w0 = ow * p.stride[1] - p.padding[1];
        const hs = Math.max(h0, 0);
        const ws = Math.max(w0, 0);
        const he = Math.min(h0 + p.kernel[0], H);
        const we = Math.min(w0 + p.kernel[1], W);
        let best = -Infinity;
        let arg = hs * W + ws;
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const v = x[pl * H * W + h * W + w]!;
            if (v > best || Number.isNaN(v)) {
              best = v;
              arg = h * W + w;
            }
          }
        }
        const o = (pl * OH + oh) * OW + ow;
        y[o] = best;
        idx[o] = arg;
      }
    }
  }
  return { y, idx };
}

/** dx[plane, idx[o]] += dy[o], scattered in increasing output order. */
export function maxPool2dBackwardRef(dy: ArrayLike<number>, idx: ArrayLike<number>, shape: Shape4, p: PoolRefParams): Float64Array {
  const [N, C, H, W] = shape;
  const [OH, OW] = poolOutSize(shape, p);
  const dx = new Float64Array(N * C * H * W);
  for (let pl = 0; pl < N * C; pl++) {
    for (let o = 0; o < OH * OW; o++) dx[pl * H * W + idx[pl * OH * OW + o]!]! += dy[pl * OH * OW + o]!;
  }
  return dx;
}

/** y[n,c] = mean over h,w. */
export function globalAvgPoolRef(x: ArrayLike<number>, shape: Shape4): Float64Array {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const y = new Float64Array(N * C);
  for (let pl = 0; pl < N * C; pl++) {
    let s = 0;
    for (let i = 0; i < HW; i++) s += x[pl * HW + i]!;
    y[pl] = s / HW;
  }
  return y;
}

/** dx[n,c,h,w] = dy[n,c]/(H·W). */
export function globalAvgPoolBackwardRef(dy: ArrayLike<number>, shape: Shape4): Float64Array {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const dx = new Float64Array(N * C * HW);
  for (let pl = 0; pl < N * C; pl++) dx.fill(dy[pl]! / HW, pl * HW, (pl + 1) * HW);
  return dx;
}
