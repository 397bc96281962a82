// The last pass of both weight-gradient paths: sums the reduction chunks' partials into dw and
// db (shaders/conv2d_prep.wgsl:reduce, four chunks interleaved).
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { grid1d } from './elementwise.js';

const REDUCE_WG = 128;

/** Where a chunk's partials sit: see the layouts in conv2d_prep.wgsl:reduce. */
export interface PartialLayout {
  nW: number;
  nB: number;
  chunks: number;
  /** Floats per chunk. */
  stride: number;
  /** Weight i = o·cols + k is read at (i / cols)·rowLen + k. */
  cols: number;
  rowLen: number;
  /** Bias j is read at bias0 + j·biasStep. */
  bias0: number;
  biasStep: number;
}

export function reduceWeightGradPartials(rt: Runtime, label: string, part: BufferLike, dw: BufferLike, db: BufferLike | null, layout: PartialLayout, accumulate: boolean): void {
  // The reduce entry always binds a bias output; without one a scratch float stands in.
  const dbOut = db ?? rt.allocF32(1, `${label}.no_bias`);
  rt.dispatch({
    label: `${label} reduce`,
    shader: 'conv2d_prep.wgsl',
    entry: 'reduce',
    constants: { WG: REDUCE_WG, ACCUMULATE: accumulate },
    params: { ...layout },
    bindings: { part, redW: dw, redB: dbOut },
    workgroups: grid1d(layout.nW + layout.nB, REDUCE_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
  if (!db) rt.release(dbOut as PooledBuffer);
}
