// Launcher for shaders/cross_entropy.wgsl: softmax cross-entropy with per-example weights (the
// wBackMix loss), forward and backward in one dispatch plus a one-workgroup reduction.
//
// Reduction, as in the BackMix reference (reduction='none', then .mean()):
//   loss = (1/N)·Σ_i w_i·CE_i          — divided by N, NOT by Σ_i w_i,
//   dlogits[i,:] = gradScale·(w_i/N)·(Σ_k t_ik·softmax(z_i) − t_i),
// with t_i the one-hot label (hard targets) or the soft target row (CutMix area mixing).
import type { Runtime } from './runtime.js';
import { rawBuffer, type BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { grid1d } from './elementwise.js';
import { shaderConst } from './shader_layout.js';

const st = (name: string) => shaderConst('cross_entropy.wgsl', name);

/** Floats in the stats buffer; ST: where each total sits (the shader's ST_* constants). */
export const CE_STATS_LENGTH = st('STATS_LEN');
const ST = { LOSS: st('ST_LOSS'), WEIGHTED_SUM: st('ST_WEIGHTED_SUM'), SUM: st('ST_SUM'), CORRECT: st('ST_CORRECT') };

/** Rows per workgroup in the per-row pass, and lanes of the reduction (a power of two). */
const CE_WG = 64;

/** Hard labels u32 [N] (class indices in [0,K)) or soft targets f32 [N,K]. */
export type CrossEntropyTarget = { labels: BufferLike } | { soft: BufferLike };

export interface CrossEntropyBuffers {
  /** [N,K] f32 row-major. */
  logits: BufferLike;
  target: CrossEntropyTarget;
  /** [N] f32 per-example weights (wBackMix: 1 − λf unmasked, 1 + λ(1−f) masked); omitted = all 1. */
  weights?: BufferLike | null;
  /** Out: [N] f32 unweighted CE_i. Omitted = pooled scratch. */
  loss?: BufferLike | null;
  /** Out: [N,K] f32 gradient of gradScale·loss; omitted = forward only (evaluation). */
  dlogits?: BufferLike | null;
  /** Out: [N] u32 argmax of each logits row (first maximum, like torch.argmax). Omitted = scratch. */
  pred?: BufferLike | null;
  /** Out: [N] u32 1 where pred == label (hard) or == argmax of the soft target, else 0. Omitted = scratch. */
  correct?: BufferLike | null;
  /**
   * Out: f32 [4] = [Σ w·CE / N, Σ w·CE, Σ CE, Σ correct] — the one small readback of a step.
   * Omitted = no reduction dispatch.
   */
  stats?: BufferLike | null;
}

export interface CrossEntropyOptions {
  N: number;
  K: number;
  /** Upstream gradient d(objective)/d(loss) multiplied into dlogits; default 1. */
  gradScale?: number;
  /** Add into `stats` instead of overwriting it (totals over many steps, read once). */
  accumulateStats?: boolean;
  label?: string;
}

function bufferBytes(b: BufferLike): number {
  return 'bytes' in b ? (b as PooledBuffer).bytes : rawBuffer(b).size;
}

function checkBuffer(op: string, name: string, b: BufferLike, count: number, shape: string): void {
  const have = Math.floor(bufferBytes(b) / 4);
  if (have < count) {
    throw new RangeError(`${op}: ${name} holds ${have} elements but ${shape} needs ${count}`);
  }
}

/**
 * Weighted softmax cross-entropy. Dispatch 1 (one invocation per row) writes loss, dlogits,
 * pred and correct; dispatch 2 (one workgroup, only when `stats` is given) sums them into stats.
 */
export function crossEntropy(rt: Runtime, bufs: CrossEntropyBuffers, o: CrossEntropyOptions): void {
  const op = o.label ?? 'cross_entropy';
  const { N, K } = o;
  for (const [name, v] of Object.entries({ N, K })) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  }
  const gradScale = o.gradScale ?? 1;
  if (!Number.isFinite(gradScale)) throw new RangeError(`${op}: gradScale must be finite, got ${gradScale}`);
  const hard = 'labels' in bufs.target;
  const targetBuf = hard ? (bufs.target as { labels: BufferLike }).labels : (bufs.target as { soft: BufferLike }).soft;
  checkBuffer(op, 'logits', bufs.logits, N * K, `[N,K] = [${N},${K}]`);
  checkBuffer(op, hard ? 'labels' : 'soft targets', targetBuf, hard ? N : N * K, hard ? `[N] = [${N}]` : `[N,K] = [${N},${K}]`);
  if (bufs.weights) checkBuffer(op, 'weights', bufs.weights, N, `[N] = [${N}]`);
  if (bufs.loss) checkBuffer(op, 'loss', bufs.loss, N, `[N] = [${N}]`);
  if (bufs.dlogits) checkBuffer(op, 'dlogits', bufs.dlogits, N * K, `[N,K] = [${N},${K}]`);
  if (bufs.pred) checkBuffer(op, 'pred', bufs.pred, N, `[N] = [${N}]`);
  if (bufs.correct) checkBuffer(op, 'correct', bufs.correct, N, `[N] = [${N}]`);
  if (bufs.stats) checkBuffer(op, 'stats', bufs.stats, CE_STATS_LENGTH, `[${CE_STATS_LENGTH}]`);

  const scratch: PooledBuffer[] = [];
  const orScratch = (b: BufferLike | null | undefined, name: string, count = N): BufferLike => {
    if (b) return b;
    const s = rt.allocF32(count, `${op}.${name}`);
    scratch.push(s);
    return s;
  };
  const loss = orScratch(bufs.loss, 'loss');
  const pred = orScratch(bufs.pred, 'pred');
  const correct = orScratch(bufs.correct, 'correct');
  // With WEIGHTED / GRAD off the shader never touches these, but an override-guarded access is
  // still a static use, so layout 'auto' keeps the binding: a 1-element stand-in fills it.
  const weights = orScratch(bufs.weights, 'unused-weights', 1);
  const dlogits = orScratch(bufs.dlogits, 'unused-dlogits', 1);

  // Host float64 → f32 once, so the shader multiplies by one constant per element.
  const params = { N, K, gscale: gradScale / N, invN: 1 / N };
  const weighted = !!bufs.weights;
  const grad = !!bufs.dlogits;

  rt.dispatch({
    label: `${op} ${hard ? 'hard' : 'soft'} ${N}x${K}`,
    shader: 'cross_entropy.wgsl',
    entry: hard ? 'ce_hard' : 'ce_soft',
    constants: { WG: CE_WG, WEIGHTED: weighted, GRAD: grad },
    params,
    bindings: { logits: bufs.logits, [hard ? 'labels' : 'soft']: targetBuf, weights, ce: loss, dlogits, pred, correct },
    workgroups: grid1d(N, CE_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });

  if (bufs.stats) {
    rt.dispatch({
      label: `${op} reduce ${N}`,
      shader: 'cross_entropy.wgsl',
      entry: 'ce_reduce',
      constants: { WG: CE_WG, WEIGHTED: weighted, ACCUMULATE: !!o.accumulateStats },
      params,
      bindings: { weights, ce: loss, correct, stats: bufs.stats },
      workgroups: [1],
    });
  }
  for (const s of scratch) rt.release(s);
}

/** Host view of the stats buffer written by `crossEntropy`. */
export interface CrossEntropyStats {
  /** (1/N)·Σ w_i·CE_i — the training loss (summed over steps when accumulated). */
  loss: number;
  weightedSum: number;
  /** Σ CE_i without weights. */
  sum: number;
  correct: number;
}


export function parseCrossEntropyStats(s: ArrayLike<number>): CrossEntropyStats {
  return { loss: s[ST.LOSS]!, weightedSum: s[ST.WEIGHTED_SUM]!, sum: s[ST.SUM]!, correct: Math.round(s[ST.CORRECT]!) };
}
