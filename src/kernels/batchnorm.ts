// Launchers for shaders/batchnorm.wgsl: BatchNorm2d (training and eval forward, backward) and
// the fused block tails relu(bn(x)) and relu(bn(x) + residual), NCHW f32.
//
// Semantics follow torch.nn.BatchNorm2d: training normalises with the batch mean and biased
// variance over N·H·W, saves mean and invstd = 1/sqrt(var + eps) for backward, and updates
// running_mean/running_var in place with `momentum` and the unbiased variance (×M/(M−1)).
// Statistics use a corrected two-pass reduction over √M-element segments (error bound in the
// shader): sound at M = 64·112·112 = 802,816 elements per channel.
//
// Shapes: x, y, residual, dy, dx, dresidual: [N,C,H,W]; gamma, beta, runMean, runVar, saveMean,
// saveInvStd, dgamma, dbeta: [C]. Outputs must be buffers distinct from the inputs they are
// computed from (WebGPU forbids a buffer being read and written in one dispatch).
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { grid1d } from './elementwise.js';
import type { ParamValues } from './shader_layout.js';
import { axisSum, checkDims, checkDistinct, checkFloats, type Shape4, segmentPlan, type SegmentPlan } from './reduce.js';
import { reduceTuning, ROW_CHUNK } from './tuning.js';

export type { Shape4 };

export interface BatchNormTrainOptions {
  /** Added to the variance before the square root; PyTorch's default 1e-5. */
  eps?: number;
  /** running = (1 − momentum)·running + momentum·batch statistic; PyTorch's default 0.1. */
  momentum?: number;
}

export interface BatchNormEvalOptions {
  eps?: number;
}

export interface BatchNormBackwardOptions {
  /** dgamma += …, dbeta += … (gradient accumulation) instead of overwriting them. */
  accumulateParams?: boolean;
}

export interface BatchNormAddReluBackwardOptions extends BatchNormBackwardOptions {
  /** dresidual += … instead of overwriting it (the block input's gradient from the conv path). */
  accumulateResidual?: boolean;
}

interface Layout {
  N: number;
  C: number;
  HW: number;
  /** Elements per channel, N·H·W. */
  M: number;
  plan: SegmentPlan;
  /** batchnorm_v4.wgsl (vec4 units, H·W % 4 == 0) or batchnorm_s.wgsl. */
  shader: string;
  WG: number;
  CH: number;
  chunks: number;
  total: number;
  shape: string;
  maxDim: number;
}

function layout(rt: Runtime, op: string, shape: Shape4): Layout {
  if (!Array.isArray(shape) || shape.length !== 4) throw new RangeError(`${op}: shape must be [N,C,H,W], got ${JSON.stringify(shape)}`);
  const [N, C, H, W] = shape;
  checkDims(op, { N, C, H, W });
  const t = reduceTuning(rt.gpu.info.kind);
  const HW = H * W;
  const plan = segmentPlan(t, N, HW, false);
  const v4 = plan.unit === 4;
  const CH = ROW_CHUNK[rt.gpu.info.kind][v4 ? 'v4' : 's'];
  const chunks = Math.ceil(plan.inner / CH);
  return {
    N, C, HW, M: N * HW, plan, shader: v4 ? 'batchnorm_v4.wgsl' : 'batchnorm_s.wgsl', WG: t.WG, CH, chunks, total: N * C * chunks,
    shape: `[${N},${C},${H},${W}]`, maxDim: rt.device.limits.maxComputeWorkgroupsPerDimension,
  };
}

function params(L: Layout, eps = 0, momentum = 0): ParamValues {
  const { C, plan, chunks, total } = L;
  return {
    C, inner: plan.inner, M: plan.M, seg: plan.seg, nseg: plan.nseg, chunks, total,
    invM: 1 / L.M, eps, momentum, unbias: L.M > 1 ? L.M / (L.M - 1) : 1,
  };
}

function checkActivations(op: string, L: Layout, bufs: Record<string, BufferLike | null | undefined>): void {
  for (const [name, b] of Object.entries(bufs)) if (b) checkFloats(op, name, b, L.N * L.C * L.HW, L.shape);
}

function checkChannels(op: string, L: Layout, bufs: Record<string, BufferLike>): void {
  for (const [name, b] of Object.entries(bufs)) checkFloats(op, name, b, L.C, `${L.shape} (per channel)`);
}

/** y = (x − stat1)·γ·inv + β (+ residual) (ReLU), inv = stat2 (invstd) or, with eval, 1/sqrt(stat2 + eps). */
function normalize(
  rt: Runtime, op: string, L: Layout, x: BufferLike, residual: BufferLike | null, relu: boolean, evalMode: boolean,
  stat1: BufferLike, stat2: BufferLike, gamma: BufferLike, beta: BufferLike, y: BufferLike, eps: number,
): void {
  // An entry's bindings are all required even where an override disables their use; an
  // unused read-only one gets x again (read-only aliasing is allowed).
  rt.dispatch({
    label: `${op} normalize ${L.shape}`,
    shader: L.shader,
    entry: 'normalize',
    constants: { WG: L.WG, CH: L.CH, EVAL: evalMode, RESIDUAL: residual !== null, RELU: relu },
    params: params(L, eps),
    bindings: { x, res: residual ?? x, mean: stat1, stat2, gamma, beta, out: y },
    workgroups: grid1d(L.total, L.WG, L.maxDim),
  });
}

function trainForward(
  rt: Runtime, op: string, x: BufferLike, residual: BufferLike | null, relu: boolean,
  gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike,
  y: BufferLike, saveMean: BufferLike, saveInvStd: BufferLike, shape: Shape4, o: BatchNormTrainOptions,
): void {
  const L = layout(rt, op, shape);
  if (L.M < 2) throw new RangeError(`${op}: training needs more than one value per channel, got shape ${L.shape}`);
  const eps = o.eps ?? 1e-5;
  const momentum = o.momentum ?? 0.1;
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be ≥ 0, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  checkActivations(op, L, { x, residual, y });
  checkChannels(op, L, { gamma, beta, runMean, runVar, saveMean, saveInvStd });
  checkDistinct(op, { y, x, residual, gamma, beta, saveMean, saveInvStd, runMean, runVar });

  // μ̂ into saveMean; stats_final replaces it by the corrected mean.
  axisSum(rt, x, saveMean, { outer: L.N, C: L.C, inner: L.HW }, { scale: 1 / L.M, label: `${op} mean` });
  const part = rt.allocF32(2 * L.C * L.plan.nseg, `${op}.partials`);
  const p = params(L, eps, momentum);
  // The gradient bindings are unused without GRAD but still bound: x stands in for the
  // read-only ones, a scratch float for the writable dz output.
  const unused = rt.allocF32(4, `${op}.unused`);
  rt.dispatch({
    label: `${op} moments ${L.shape}`,
    shader: L.shader,
    entry: 'segment_sums',
    constants: { WG: L.WG, GRAD: false },
    params: p,
    bindings: { x, dy: x, ymask: x, mean: saveMean, part, dzOut: unused },
    workgroups: grid1d(L.C * L.plan.nseg, L.WG, L.maxDim),
  });
  rt.release(unused);
  rt.dispatch({
    label: `${op} stats ${L.shape}`,
    shader: L.shader,
    entry: 'stats_final',
    constants: { WG: L.WG },
    params: p,
    bindings: { partIn: part, saveMean, saveInvStd, runMean, runVar },
    workgroups: grid1d(L.C, L.WG, L.maxDim),
  });
  rt.release(part);
  normalize(rt, op, L, x, residual, relu, false, saveMean, saveInvStd, gamma, beta, y, eps);
}

function evalForward(
  rt: Runtime, op: string, x: BufferLike, residual: BufferLike | null, relu: boolean,
  gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike, y: BufferLike,
  shape: Shape4, o: BatchNormEvalOptions,
): void {
  const L = layout(rt, op, shape);
  const eps = o.eps ?? 1e-5;
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be ≥ 0, got ${eps}`);
  checkActivations(op, L, { x, residual, y });
  checkChannels(op, L, { gamma, beta, runMean, runVar });
  checkDistinct(op, { y, x, residual, gamma, beta, runMean, runVar });
  normalize(rt, op, L, x, residual, relu, true, runMean, runVar, gamma, beta, y, eps);
}

/**
 * Backward of y = bn(x) (mask = null), relu(bn(x)) or relu(bn(x) + r) (mask = y, the fused
 * op's output). With dres, the masked gradient dz is also written (or added) to dres.
 */
function backward(
  rt: Runtime, op: string, x: BufferLike, maskY: BufferLike | null, dy: BufferLike, gamma: BufferLike,
  saveMean: BufferLike, saveInvStd: BufferLike, dx: BufferLike, dres: BufferLike | null,
  dgamma: BufferLike, dbeta: BufferLike, shape: Shape4, accumulateParams: boolean, accumulateResidual: boolean,
): void {
  const L = layout(rt, op, shape);
  checkActivations(op, L, { x, y: maskY, dy, dx, dresidual: dres });
  checkChannels(op, L, { gamma, saveMean, saveInvStd, dgamma, dbeta });
  checkDistinct(op, { dx, x, y: maskY, dy, dresidual: dres, gamma, saveMean, saveInvStd, dgamma, dbeta });

  const p = params(L);
  const part = rt.allocF32(2 * L.C * L.plan.nseg, `${op}.partials`);
  // WRITE_DZ off still needs a writable buffer bound to its slot.
  const unused: PooledBuffer | null = dres ? null : rt.allocF32(4, `${op}.unused`);
  const dzOut = dres ?? unused!;
  const mask = maskY ?? dy;
  rt.dispatch({
    label: `${op} sums ${L.shape}`,
    shader: L.shader,
    entry: 'segment_sums',
    constants: { WG: L.WG, GRAD: true, MASK: maskY !== null, WRITE_DZ: dres !== null, ACCUM_DZ: accumulateResidual },
    params: p,
    bindings: { x, dy, ymask: mask, mean: saveMean, part, dzOut },
    workgroups: grid1d(L.C * L.plan.nseg, L.WG, L.maxDim),
  });
  const coef = rt.allocF32(2 * L.C, `${op}.coef`);
  rt.dispatch({
    label: `${op} param grads ${L.shape}`,
    shader: L.shader,
    entry: 'bwd_final',
    constants: { WG: L.WG, ACCUMULATE: accumulateParams },
    params: p,
    bindings: { stat2: saveInvStd, partIn: part, dgamma, dbeta, coef },
    workgroups: grid1d(L.C, L.WG, L.maxDim),
  });
  // dres already holds the masked dz unless it was accumulated into: then re-mask dy.
  const dzSrc = dres && !accumulateResidual ? dres : dy;
  const remask = maskY !== null && dzSrc === dy;
  const m = remask ? maskY! : dzSrc;
  rt.dispatch({
    label: `${op} dx ${L.shape}`,
    shader: L.shader,
    entry: 'dx',
    constants: { WG: L.WG, CH: L.CH, MASK: remask },
    params: p,
    bindings: { x, dy: dzSrc, ymask: m, mean: saveMean, stat2: saveInvStd, gamma, coefIn: coef, out: dx },
    workgroups: grid1d(L.total, L.WG, L.maxDim),
  });
  rt.release(part);
  rt.release(coef);
  if (unused) rt.release(unused);
}

/**
 * Training-mode BatchNorm2d forward: y = γ·(x − mean)/sqrt(var + eps) + β with the batch
 * statistics; writes saveMean, saveInvStd and updates runMean/runVar in place.
 * x, y: [N,C,H,W] f32; gamma, beta, runMean, runVar, saveMean, saveInvStd: [C] f32.
 */
export function batchNormTrainForward(
  rt: Runtime, x: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike,
  y: BufferLike, saveMean: BufferLike, saveInvStd: BufferLike, shape: Shape4, o: BatchNormTrainOptions = {},
): void {
  trainForward(rt, 'batchNormTrainForward', x, null, false, gamma, beta, runMean, runVar, y, saveMean, saveInvStd, shape, o);
}

/**
 * Eval-mode BatchNorm2d forward: y = γ·(x − runMean)/sqrt(runVar + eps) + β.
 * x, y: [N,C,H,W] f32; gamma, beta, runMean, runVar: [C] f32.
 */
export function batchNormEvalForward(
  rt: Runtime, x: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike,
  y: BufferLike, shape: Shape4, o: BatchNormEvalOptions = {},
): void {
  evalForward(rt, 'batchNormEvalForward', x, null, false, gamma, beta, runMean, runVar, y, shape, o);
}

/**
 * Backward of training-mode BatchNorm2d from the forward's input x and saved statistics:
 * dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = (x − mean)·invstd.
 * x, dy, dx: [N,C,H,W] f32; gamma, saveMean, saveInvStd, dgamma, dbeta: [C] f32.
 */
export function batchNormBackward(
  rt: Runtime, x: BufferLike, dy: BufferLike, gamma: BufferLike, saveMean: BufferLike, saveInvStd: BufferLike,
  dx: BufferLike, dgamma: BufferLike, dbeta: BufferLike, shape: Shape4, o: BatchNormBackwardOptions = {},
): void {
  backward(rt, 'batchNormBackward', x, null, dy, gamma, saveMean, saveInvStd, dx, null, dgamma, dbeta, shape, !!o.accumulateParams, false);
}

/**
 * Fused training forward y = relu(bn(x)); statistics as batchNormTrainForward.
 * x, y: [N,C,H,W] f32; per-channel buffers: [C] f32.
 */
export function batchNormReluTrainForward(
  rt: Runtime, x: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike,
  y: BufferLike, saveMean: BufferLike, saveInvStd: BufferLike, shape: Shape4, o: BatchNormTrainOptions = {},
): void {
  trainForward(rt, 'batchNormReluTrainForward', x, null, true, gamma, beta, runMean, runVar, y, saveMean, saveInvStd, shape, o);
}

/** Fused eval forward y = relu(bn_eval(x)). x, y: [N,C,H,W] f32; per-channel buffers: [C] f32. */
export function batchNormReluEvalForward(
  rt: Runtime, x: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike, runVar: BufferLike,
  y: BufferLike, shape: Shape4, o: BatchNormEvalOptions = {},
): void {
  evalForward(rt, 'batchNormReluEvalForward', x, null, true, gamma, beta, runMean, runVar, y, shape, o);
}

/**
 * Backward of y = relu(bn(x)): dz = dy·[y > 0], then as batchNormBackward with dz.
 * x, y (the fused forward's output), dy, dx: [N,C,H,W] f32; per-channel buffers: [C] f32.
 */
export function batchNormReluBackward(
  rt: Runtime, x: BufferLike, y: BufferLike, dy: BufferLike, gamma: BufferLike, saveMean: BufferLike,
  saveInvStd: BufferLike, dx: BufferLike, dgamma: BufferLike, dbeta: BufferLike, shape: Shape4,
  o: BatchNormBackwardOptions = {},
): void {
  backward(rt, 'batchNormReluBackward', x, y, dy, gamma, saveMean, saveInvStd, dx, null, dgamma, dbeta, shape, !!o.accumulateParams, false);
}

/**
 * Fused training forward of a BasicBlock tail: y = relu(bn(x) + residual).
 * x, residual, y: [N,C,H,W] f32; per-channel buffers: [C] f32.
 */
export function batchNormAddReluTrainForward(
  rt: Runtime, x: BufferLike, residual: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike,
  runVar: BufferLike, y: BufferLike, saveMean: BufferLike, saveInvStd: BufferLike, shape: Shape4,
  o: BatchNormTrainOptions = {},
): void {
  trainForward(rt, 'batchNormAddReluTrainForward', x, residual, true, gamma, beta, runMean, runVar, y, saveMean, saveInvStd, shape, o);
}

/** Fused eval forward y = relu(bn_eval(x) + residual). Activations [N,C,H,W], per-channel [C], f32. */
export function batchNormAddReluEvalForward(
  rt: Runtime, x: BufferLike, residual: BufferLike, gamma: BufferLike, beta: BufferLike, runMean: BufferLike,
  runVar: BufferLike, y: BufferLike, shape: Shape4, o: BatchNormEvalOptions = {},
): void {
  evalForward(rt, 'batchNormAddReluEvalForward', x, residual, true, gamma, beta, runMean, runVar, y, shape, o);
}

/**
 * Backward of y = relu(bn(x) + residual): dz = dy·[y > 0] is the residual's gradient
 * (written to dresidual, or added with accumulateResidual) and feeds batchNormBackward.
 * x, y (the fused forward's output), dy, dx, dresidual: [N,C,H,W] f32; per-channel: [C] f32.
 */
export function batchNormAddReluBackward(
  rt: Runtime, x: BufferLike, y: BufferLike, dy: BufferLike, gamma: BufferLike, saveMean: BufferLike,
  saveInvStd: BufferLike, dx: BufferLike, dresidual: BufferLike, dgamma: BufferLike, dbeta: BufferLike,
  shape: Shape4, o: BatchNormAddReluBackwardOptions = {},
): void {
  backward(
    rt, 'batchNormAddReluBackward', x, y, dy, gamma, saveMean, saveInvStd, dx, dresidual, dgamma, dbeta, shape,
    !!o.accumulateParams, !!o.accumulateResidual,
  );
}
