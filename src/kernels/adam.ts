// Launcher for shaders/adam.wgsl: one fused dispatch updates a parameter tensor and its Adam
// moments in place, with torch.optim.Adam / AdamW semantics (see the shader for the formulas).
//
// param, grad, m, v: flat f32 buffers; the update touches elements [offset, offset + n), so one
// call can cover a single tensor or a whole packed buffer of parameters (one call per group of
// parameters that share hyperparameters, each a contiguous range).
import type { Runtime } from './runtime.js';
import { rawBuffer, type BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { grid1d } from './elementwise.js';

/**
 * Threads per workgroup; 1-D streaming kernels are flat between 64 and 256
 * (docs/DESIGN.md, "Software GPUs").
 */
const ADAM_WG = 128;

export interface AdamHyper {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Default 0. L2 (added to the gradient) for Adam, decoupled for AdamW. */
  weightDecay?: number;
  /** AdamW: p ← p·(1 − lr·wd) before the Adam update, instead of g ← g + wd·p. */
  decoupled?: boolean;
}

export interface AdamOptions extends AdamHyper {
  /** Elements to update. */
  n: number;
  /** 1-based step count t of this update (torch increments state['step'] before using it). */
  step: number;
  /** First element (default 0). */
  offset?: number;
  label?: string;
  /** Force the scalar (false) or vec4 (true) entry point; default: vec4 whenever it applies. */
  vec4?: boolean;
  /** Lower than the device's limit only to exercise the 2-D grid in tests. */
  maxWorkgroupsPerDim?: number;
}

/** The f32 Params of one step, derived in float64 on the host. */
export interface AdamScalars {
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** sqrt(1 − β2^t) */
  sqrtBc2: number;
  eps: number;
  /** Added to the gradient as l2·p (Adam's weight_decay). */
  l2: number;
  /** Multiplies p before the update (AdamW: 1 − lr·wd). */
  decay: number;
}

export function adamScalars(h: AdamHyper, step: number, op = 'adam'): AdamScalars {
  const beta1 = h.beta1 ?? 0.9;
  const beta2 = h.beta2 ?? 0.999;
  const eps = h.eps ?? 1e-8;
  const wd = h.weightDecay ?? 0;
  // Same checks as torch.optim.Adam's constructor.
  if (!(h.lr >= 0) || !Number.isFinite(h.lr)) throw new RangeError(`${op}: invalid learning rate ${h.lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`${op}: invalid beta1 ${beta1} (need 0 ≤ β1 < 1)`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`${op}: invalid beta2 ${beta2} (need 0 ≤ β2 < 1)`);
  if (!(eps >= 0)) throw new RangeError(`${op}: invalid eps ${eps}`);
  if (!(wd >= 0) || !Number.isFinite(wd)) throw new RangeError(`${op}: invalid weight decay ${wd}`);
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`${op}: step must be an integer ≥ 1, got ${step}`);
  return {
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    stepSize: h.lr / (1 - beta1 ** step),
    sqrtBc2: Math.sqrt(1 - beta2 ** step),
    eps,
    l2: h.decoupled ? 0 : wd,
    decay: h.decoupled ? 1 - h.lr * wd : 1,
  };
}

function bufferBytes(b: BufferLike): number {
  return 'bytes' in b ? (b as PooledBuffer).bytes : rawBuffer(b).size;
}

/**
 * Threads and grid of one update: vec4 invocations cover four elements each. Exported so the
 * grid arithmetic can be checked without a GPU for sizes too big to run in tests.
 */
export function adamGrid(n: number, vec4: boolean, maxPerDim = 65535): { threads: number; workgroups: [number, number] } {
  const threads = vec4 ? Math.ceil(n / 4) : n;
  return { threads, workgroups: grid1d(threads, ADAM_WG, maxPerDim) };
}

export const ADAM_WORKGROUP_SIZE = ADAM_WG;

/** One Adam step, in place: param, m (exp_avg), v (exp_avg_sq) updated from grad. */
export function adam(rt: Runtime, param: BufferLike, grad: BufferLike, m: BufferLike, v: BufferLike, o: AdamOptions): void {
  const op = o.label ?? 'adam';
  const { n } = o;
  const offset = o.offset ?? 0;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${op}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`${op}: offset must be a non-negative integer, got ${offset}`);
  const s = adamScalars(o, o.step, op);
  const bufs = { param, grad, m, v };
  const raws = new Set<GPUBuffer>();
  for (const [name, b] of Object.entries(bufs)) {
    const have = Math.floor(bufferBytes(b) / 4);
    if (have < offset + n) throw new RangeError(`${op}: ${name} holds ${have} elements but offset ${offset} + n ${n} needs ${offset + n}`);
    raws.add(rawBuffer(b));
  }
  // WebGPU rejects one buffer bound both writable and read in a dispatch; say so by name.
  if (raws.size !== 4) throw new Error(`${op}: param, grad, m and v must be four distinct buffers`);
  if (n === 0) return;

  // vec4 binds whole buffers (the pool rounds sizes to 16 B classes), so the last vec4 may
  // extend past n into padding the shader writes back unchanged.
  const quads = Math.ceil(n / 4);
  const vec4Fits = offset % 4 === 0 && Object.values(bufs).every((b) => rawBuffer(b).size >= (offset + quads * 4) * 4);
  if (o.vec4 && !vec4Fits) throw new RangeError(`${op}: vec4 needs offset % 4 == 0 and buffers covering ${offset + quads * 4} elements`);
  const useVec4 = o.vec4 ?? vec4Fits;

  const params = {
    n, offset, oneMinusBeta1: s.oneMinusBeta1, beta2: s.beta2, oneMinusBeta2: s.oneMinusBeta2, stepSize: s.stepSize,
    sqrtBc2: s.sqrtBc2, eps: s.eps, l2: s.l2, decay: s.decay,
  };
  const { workgroups } = adamGrid(n, useVec4, o.maxWorkgroupsPerDim ?? rt.device.limits.maxComputeWorkgroupsPerDimension);
  const raw = [param, grad, m, v].map(rawBuffer);
  rt.dispatch({
    label: `${op} ${n}`,
    shader: 'adam.wgsl',
    entry: useVec4 ? 'adam4' : 'adam',
    constants: { WG: ADAM_WG },
    params,
    bindings: useVec4
      ? { param4: raw[0]!, grad4: raw[1]!, m14: raw[2]!, m24: raw[3]! }
      : { param, grad, m1: m, m2: v },
    workgroups,
  });
}
