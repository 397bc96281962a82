// float64 reference for shaders/gradcam.wgsl: GradCAM on one conv activation.
// A, dA: [N,C,h,w] (activation and d(target logit)/dA per image).
//   alpha[n,c]   = (1/(h·w)) · Σ_{y,x} dA[n,c,y,x]                          [N,C]
//   cam[n,y,x]   = max(0, Σ_c alpha[n,c] · A[n,c,y,x])                      [N,h,w]
//   up[n,Y,X]    = bilinear(cam[n]) at size (H,W), PyTorch
//                  F.interpolate(mode='bilinear', align_corners=False) with size=(H,W)   [N,H,W]
//   z[n]         = (up[n] − min up[n]) / (max up[n] − min up[n]) per image, valid[n] = 1;
//                  when max − min < minRange (a constant map, e.g. all zero after ReLU):
//                  z[n] = 0 and valid[n] = 0.

/** Smallest normal f32: below it GPUs may flush the range to zero before dividing. */
export const F32_MIN_NORMAL = 2 ** -126;

export interface GradCamDimsRef {
  N: number;
  C: number;
  h: number;
  w: number;
  H: number;
  W: number;
}

/** One output coordinate's two source taps and their weights. */
export interface LinearTaps {
  i0: number;
  i1: number;
  l0: number;
  l1: number;
}

/**
 * PyTorch's align_corners=False source index for output index `dst` (upsample_bilinear2d with
 * an explicit output size): scale = in/out, src = scale·(dst + 0.5) − 0.5, clamped below at 0;
 * i0 = floor(src), i1 = i0 + 1 except at the last input row/column (edge clamp),
 * l1 = src − i0, l0 = 1 − l1.
 */
export function linearTaps(dst: number, inSize: number, outSize: number): LinearTaps {
  const scale = inSize / outSize;
  const src = Math.max(scale * (dst + 0.5) - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = src - i0;
  return { i0, i1, l0: 1 - l1, l1 };
}

/** x: [N,h,w] → [N,H,W], bilinear, align_corners=False (see linearTaps). */
export function upsampleBilinearRef(x: ArrayLike<number>, N: number, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * H * W);
  const ty = Array.from({ length: H }, (_, Y) => linearTaps(Y, h, H));
  const tx = Array.from({ length: W }, (_, X) => linearTaps(X, w, W));
  for (let n = 0; n < N; n++) {
    const b = n * h * w;
    for (let Y = 0; Y < H; Y++) {
      const { i0: y0, i1: y1, l0: hy0, l1: hy1 } = ty[Y]!;
      for (let X = 0; X < W; X++) {
        const { i0: x0, i1: x1, l0: wx0, l1: wx1 } = tx[X]!;
        const top = wx0 * x[b + y0 * w + x0]! + wx1 * x[b + y0 * w + x1]!;
        const bot = wx0 * x[b + y1 * w + x0]! + wx1 * x[b + y1 * w + x1]!;
        out[(n * H + Y) * W + X] = hy0 * top + hy1 * bot;
      }
    }
  }
  return out;
}

/** alpha[n,c] = spatial mean of dA[n,c]. */
export function gradCamAlphaRef(dA: ArrayLike<number>, N: number, C: number, hw: number): Float64Array {
  const alpha = new Float64Array(N * C);
  for (let i = 0; i < N * C; i++) {
    let s = 0;
    for (let k = 0; k < hw; k++) s += dA[i * hw + k]!;
    alpha[i] = s / hw;
  }
  return alpha;
}

/** cam[n,q] = ReLU(Σ_c alpha[n,c]·A[n,c,q]) at the activation's resolution. */
export function gradCamLowRef(A: ArrayLike<number>, alpha: ArrayLike<number>, N: number, C: number, hw: number): Float64Array {
  const cam = new Float64Array(N * hw);
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < hw; q++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += alpha[n * C + c]! * A[(n * C + c) * hw + q]!;
      cam[n * hw + q] = Math.max(s, 0);
    }
  }
  return cam;
}

export interface MinMaxNormRef {
  z: Float64Array;
  valid: Uint32Array;
  /** [N,2] per image (min, max) of the input. */
  range: Float64Array;
}

/** Per-image min-max normalisation of x: [N,P]; a range below minRange gives zeros, valid 0. */
export function minMaxNormRef(x: ArrayLike<number>, N: number, P: number, minRange = F32_MIN_NORMAL): MinMaxNormRef {
  const z = new Float64Array(N * P);
  const valid = new Uint32Array(N);
  const range = new Float64Array(2 * N);
  for (let n = 0; n < N; n++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < P; p++) {
      lo = Math.min(lo, x[n * P + p]!);
      hi = Math.max(hi, x[n * P + p]!);
    }
    range[2 * n] = lo;
    range[2 * n + 1] = hi;
    const r = hi - lo;
    if (!(r >= minRange)) continue;
    valid[n] = 1;
    for (let p = 0; p < P; p++) z[n * P + p] = (x[n * P + p]! - lo) / r;
  }
  return { z, valid, range };
}

export interface GradCamRef extends MinMaxNormRef {
  alpha: Float64Array;
  cam: Float64Array;
  up: Float64Array;
}

export function gradCamRef(A: ArrayLike<number>, dA: ArrayLike<number>, d: GradCamDimsRef, minRange = F32_MIN_NORMAL): GradCamRef {
  const hw = d.h * d.w;
  const alpha = gradCamAlphaRef(dA, d.N, d.C, hw);
  const cam = gradCamLowRef(A, alpha, d.N, d.C, hw);
  const up = upsampleBilinearRef(cam, d.N, d.h, d.w, d.H, d.W);
  return { alpha, cam, up, ...minMaxNormRef(up, d.N, d.H * d.W, minRange) };
}
