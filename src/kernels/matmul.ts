// Launcher for shaders/matmul.wgsl: C = alpha·op(A)·op(B) (+ beta·C), optionally batched.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import { matmulTiling } from './tuning.js';

export interface MatmulOptions {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** C = alpha·AB + beta·C (reads C) instead of overwriting it. */
  accumulate?: boolean;
  alpha?: number;
  beta?: number;
  batch?: number;
  /** Elements between consecutive batch matrices; default dense packing. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** Elements before batch matrix 0 of A and of C. */
  offsetA?: number;
  offsetC?: number;
  label?: string;
}

/** a: op(A) is [M,K]; b: op(B) is [K,N]; c: [M,N]. All f32, row-major. */
export function matmul(rt: Runtime, a: BufferLike, b: BufferLike, c: BufferLike, o: MatmulOptions): void {
  const { M, N, K } = o;
  for (const [name, v] of Object.entries({ M, N, K })) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`matmul: ${name} must be a positive integer, got ${v}`);
  }
  const batch = o.batch ?? 1;
  const t = matmulTiling(rt.gpu.info.kind);
  const strideA = o.strideA ?? M * K;
  const strideB = o.strideB ?? K * N;
  const strideC = o.strideC ?? M * N;
  // vec4 loads and stores need every row and batch matrix to start on a vec4 (docs/DESIGN.md,
  // "Software GPUs": each storage load is a per-lane loop on lavapipe, so 4× fewer loads matter).
  const offA = o.offsetA ?? 0;
  const offC = o.offsetC ?? 0;
  for (const [name, v] of Object.entries({ offsetA: offA, offsetC: offC })) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`matmul: ${name} must be a non-negative integer, got ${v}`);
  }
  const vec4 = [M, N, K, strideA, strideB, strideC, offA, offC].every((v) => v % 4 === 0);
  rt.dispatch({
    label: o.label ?? `matmul ${M}x${N}x${K}`,
    shader: 'matmul.wgsl',
    entry: vec4 ? 'main_vec4' : 'main',
    constants: { TRANS_A: !!o.transA, TRANS_B: !!o.transB, ACCUMULATE: !!o.accumulate, WG_X: t.WG_X, WG_Y: t.WG_Y },
    defines: { TM: t.TM, TN: t.TN },
    params: { M, N, K, batch, strideA, strideB, strideC, alpha: o.alpha ?? 1, beta: o.beta ?? 1, offA, offC },
    bindings: vec4 ? { A4: a, B4: b, C4: c } : { A: a, B: b, C: c },
    workgroups: [Math.ceil(N / t.TN / t.WG_X), Math.ceil(M / t.TM / t.WG_Y), batch],
  });
}
