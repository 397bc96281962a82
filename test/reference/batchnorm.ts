// float64 references for src/kernels/batchnorm.ts: BatchNorm2d (PyTorch semantics) and the
// fused tails relu(bn(x)) and relu(bn(x) + residual). x: [N,C,H,W], per-channel arrays: [C].

export type Shape4 = readonly [number, number, number, number];

export interface BnTrainRef {
  y: Float64Array;
  mean: Float64Array;
  /** Biased variance (divides by M = N·H·W), the one used to normalise. */
  varBiased: Float64Array;
  invstd: Float64Array;
}

function forEachChannel(shape: Shape4, f: (c: number, idx: (n: number, s: number) => number) => void): void {
  const [, C, H, W] = shape;
  const HW = H * W;
  for (let c = 0; c < C; c++) f(c, (n, s) => (n * C + c) * HW + s);
}

/** Exact two-pass batch statistics in float64. */
export function bnStatsRef(x: ArrayLike<number>, shape: Shape4, eps = 1e-5): Omit<BnTrainRef, 'y'> {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const M = N * HW;
  const mean = new Float64Array(C);
  const varBiased = new Float64Array(C);
  const invstd = new Float64Array(C);
  forEachChannel(shape, (c, idx) => {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[idx(n, i)]!;
    const m = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) q += (x[idx(n, i)]! - m) ** 2;
    mean[c] = m;
    varBiased[c] = q / M;
    invstd[c] = 1 / Math.sqrt(q / M + eps);
  });
  return { mean, varBiased, invstd };
}

/** y = γ·(x − mean)·invstd + β (+ residual) (ReLU) with the given per-channel statistics. */
export function bnApplyRef(
  x: ArrayLike<number>, shape: Shape4, mean: ArrayLike<number>, invstd: ArrayLike<number>,
  gamma: ArrayLike<number>, beta: ArrayLike<number>, residual?: ArrayLike<number>, relu = false,
): Float64Array {
  const [N, , H, W] = shape;
  const HW = H * W;
  const y = new Float64Array(x.length);
  forEachChannel(shape, (c, idx) => {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const e = idx(n, i);
        let v = gamma[c]! * (x[e]! - mean[c]!) * invstd[c]! + beta[c]!;
        if (residual) v += residual[e]!;
        y[e] = relu ? Math.max(v, 0) : v;
      }
    }
  });
  return y;
}

/** Training-mode forward: batch statistics, then y = bn(x) (+ residual) (ReLU). */
export function bnTrainForwardRef(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, shape: Shape4, eps = 1e-5,
  residual?: ArrayLike<number>, relu = false,
): BnTrainRef {
  const st = bnStatsRef(x, shape, eps);
  return { ...st, y: bnApplyRef(x, shape, st.mean, st.invstd, gamma, beta, residual, relu) };
}

/** PyTorch's running-stat update: r ← (1 − m)·r + m·stat, with the unbiased variance. */
export function bnRunningUpdateRef(
  runMean: ArrayLike<number>, runVar: ArrayLike<number>, mean: ArrayLike<number>, varBiased: ArrayLike<number>,
  M: number, momentum = 0.1,
): { runMean: Float64Array; runVar: Float64Array } {
  const C = mean.length;
  const rm = new Float64Array(C);
  const rv = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    rm[c] = (1 - momentum) * runMean[c]! + momentum * mean[c]!;
    rv[c] = (1 - momentum) * runVar[c]! + momentum * varBiased[c]! * (M / (M - 1));
  }
  return { runMean: rm, runVar: rv };
}

/** Eval-mode forward: y = γ·(x − runMean)/sqrt(runVar + eps) + β (+ residual) (ReLU). */
export function bnEvalForwardRef(
  x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, runMean: ArrayLike<number>,
  runVar: ArrayLike<number>, shape: Shape4, eps = 1e-5, residual?: ArrayLike<number>, relu = false,
): Float64Array {
  const invstd = Array.from(runVar, (v) => 1 / Math.sqrt(v + eps));
  return bnApplyRef(x, shape, runMean, invstd, gamma, beta, residual, relu);
}

export interface BnBackwardRef {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Training-mode backward from the batch statistics of x, with dz the gradient at bn's output:
 * dβ = Σdz, dγ = Σdz·x̂, dx = γ·invstd·(dz − mean(dz) − x̂·mean(dz·x̂)).
 */
export function bnBackwardRef(
  x: ArrayLike<number>, dz: ArrayLike<number>, gamma: ArrayLike<number>, shape: Shape4, eps = 1e-5,
): BnBackwardRef {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const M = N * HW;
  const { mean, invstd } = bnStatsRef(x, shape, eps);
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  forEachChannel(shape, (c, idx) => {
    let sd = 0;
    let sdx = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const e = idx(n, i);
        sd += dz[e]!;
        sdx += dz[e]! * (x[e]! - mean[c]!) * invstd[c]!;
      }
    }
    dbeta[c] = sd;
    dgamma[c] = sdx;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const e = idx(n, i);
        const xhat = (x[e]! - mean[c]!) * invstd[c]!;
        dx[e] = gamma[c]! * invstd[c]! * (dz[e]! - sd / M - xhat * (sdx / M));
      }
    }
  });
  return { dx, dgamma, dbeta };
}

/** dz = dy·[y > 0]: the gradient through a ReLU whose output is y. */
export function reluMaskRef(y: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: dy.length }, (_, i) => (y[i]! > 0 ? dy[i]! : 0));
}

/** Backward of y = relu(bn(x) (+ residual)) given its output y: dx, dγ, dβ and d(residual) = dz. */
export function bnReluBackwardRef(
  x: ArrayLike<number>, y: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, shape: Shape4, eps = 1e-5,
): BnBackwardRef & { dresidual: Float64Array } {
  const dz = reluMaskRef(y, dy);
  return { ...bnBackwardRef(x, dz, gamma, shape, eps), dresidual: dz };
}
