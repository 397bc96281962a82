// Launchers for shaders/pool.wgsl: 2-D max pooling with argmax indices (forward, and a gather
// backward without float atomics) and global average pooling (forward is a row mean from
// reduce.ts, backward a broadcast). NCHW f32.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import { grid1d } from './elementwise.js';
import { axisSum, checkDims, checkDistinct, checkFloats, type Shape4 } from './reduce.js';
import { reduceTuning, ROW_CHUNK } from './tuning.js';
import type { ParamValues } from './shader_layout.js';

export type { Shape4 };
type Pair = number | readonly [number, number];

export interface MaxPool2dParams {
  /** Window size, kh×kw (one number for square). */
  kernel: Pair;
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: Pair;
  /** Zero-cost padding that acts as −inf; at most half the kernel, as PyTorch requires. */
  padding?: Pair;
}

export interface PoolBackwardOptions {
  /** dx += … instead of overwriting it. */
  accumulate?: boolean;
}

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

interface PoolGeometry {
  N: number; C: number; H: number; W: number; OH: number; OW: number;
  KH: number; KW: number; SH: number; SW: number; PH: number; PW: number;
}

function geometry(op: string, shape: Shape4, o: MaxPool2dParams): PoolGeometry {
  if (!Array.isArray(shape) || shape.length !== 4) throw new RangeError(`${op}: shape must be [N,C,H,W], got ${JSON.stringify(shape)}`);
  const [N, C, H, W] = shape;
  const [KH, KW] = pair(o.kernel);
  const [SH, SW] = pair(o.stride ?? o.kernel);
  const [PH, PW] = pair(o.padding ?? 0);
  checkDims(op, { N, C, H, W, kernelH: KH, kernelW: KW, strideH: SH, strideW: SW });
  for (const [name, v, k] of [['padH', PH, KH], ['padW', PW, KW]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > Math.floor(k / 2)) {
      throw new RangeError(`${op}: ${name} must be an integer in [0, kernel/2 = ${Math.floor(k / 2)}], got ${v}`);
    }
  }
  const OH = Math.floor((H + 2 * PH - KH) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - KW) / SW) + 1;
  if (OH < 1 || OW < 1) throw new RangeError(`${op}: kernel ${KH}×${KW} with padding ${PH},${PW} does not fit input [${N},${C},${H},${W}]`);
  return { N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW };
}

/** [N, C, OH, OW] with OH = ⌊(H + 2·padH − kH)/strideH⌋ + 1 (PyTorch's floor mode). */
export function maxPool2dOutputShape(shape: Shape4, o: MaxPool2dParams): [number, number, number, number] {
  const g = geometry('maxPool2dOutputShape', shape, o);
  return [g.N, g.C, g.OH, g.OW];
}

function poolParams(planes: number, H: number, W: number, OH: number, OW: number, total = 0, chunks = 0, scale = 0): ParamValues {
  return { planes, H, W, OH, OW, total, chunks, scale };
}

/** Window shape as pipeline constants (one pipeline per pooling configuration). */
function windowConstants(g: PoolGeometry): Record<string, number> {
  return { KH: g.KH, KW: g.KW, SH: g.SH, SW: g.SW, PH: g.PH, PW: g.PW };
}

/**
 * Max pooling forward. x: [N,C,H,W] f32; y: [N,C,OH,OW] f32; indices: [N,C,OH,OW] u32, the
 * argmax as h·W + w within its input plane (PyTorch's return_indices); ties go to the first
 * maximum in row-major window order.
 */
export function maxPool2dForward(
  rt: Runtime, x: BufferLike, y: BufferLike, indices: BufferLike, shape: Shape4, o: MaxPool2dParams,
): void {
  const op = 'maxPool2dForward';
  const g = geometry(op, shape, o);
  const inShape = `[${shape.join(',')}]`;
  const outCount = g.N * g.C * g.OH * g.OW;
  checkFloats(op, 'x', x, g.N * g.C * g.H * g.W, inShape);
  checkFloats(op, 'y', y, outCount, `output [${g.N},${g.C},${g.OH},${g.OW}]`);
  checkFloats(op, 'indices', indices, outCount, `output [${g.N},${g.C},${g.OH},${g.OW}]`);
  checkDistinct(op, { x, y, indices });
  const WG = reduceTuning(rt.gpu.info.kind).WG;
  rt.dispatch({
    label: `${op} ${inShape} k${g.KH}x${g.KW} s${g.SH}x${g.SW} p${g.PH}x${g.PW}`,
    shader: 'pool.wgsl',
    entry: 'maxpool_fwd',
    constants: { WG, ...windowConstants(g) },
    params: poolParams(g.N * g.C, g.H, g.W, g.OH, g.OW),
    bindings: { x, y, indices },
    // One invocation per output row.
    workgroups: grid1d(g.N * g.C * g.OH, WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/**
 * Max pooling backward: dx[i] = Σ dy[o] over the outputs o whose argmax is input i.
 * dy, indices: [N,C,OH,OW] (f32, u32 from maxPool2dForward); dx: [N,C,H,W] f32.
 */
export function maxPool2dBackward(
  rt: Runtime, dy: BufferLike, indices: BufferLike, dx: BufferLike, shape: Shape4, o: MaxPool2dParams,
  opts: PoolBackwardOptions = {},
): void {
  const op = 'maxPool2dBackward';
  const g = geometry(op, shape, o);
  const inShape = `[${shape.join(',')}]`;
  const inCount = g.N * g.C * g.H * g.W;
  const outCount = g.N * g.C * g.OH * g.OW;
  checkFloats(op, 'dy', dy, outCount, `output [${g.N},${g.C},${g.OH},${g.OW}]`);
  checkFloats(op, 'indices', indices, outCount, `output [${g.N},${g.C},${g.OH},${g.OW}]`);
  checkFloats(op, 'dx', dx, inCount, inShape);
  checkDistinct(op, { dy, indices, dx });
  const WG = reduceTuning(rt.gpu.info.kind).WG;
  rt.dispatch({
    label: `${op} ${inShape} k${g.KH}x${g.KW} s${g.SH}x${g.SW} p${g.PH}x${g.PW}`,
    shader: 'pool.wgsl',
    entry: 'maxpool_bwd',
    constants: { WG, ACCUMULATE: !!opts.accumulate, ...windowConstants(g) },
    params: poolParams(g.N * g.C, g.H, g.W, g.OH, g.OW),
    bindings: { dy, indicesIn: indices, dx },
    // One invocation per input row.
    workgroups: grid1d(g.N * g.C * g.H, WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** Global average pooling: y[n,c] = mean over h,w of x[n,c,h,w]. x: [N,C,H,W] f32; y: [N,C] f32. */
export function globalAvgPoolForward(rt: Runtime, x: BufferLike, y: BufferLike, shape: Shape4): void {
  const op = 'globalAvgPoolForward';
  if (!Array.isArray(shape) || shape.length !== 4) throw new RangeError(`${op}: shape must be [N,C,H,W], got ${JSON.stringify(shape)}`);
  const [N, C, H, W] = shape;
  checkDims(op, { N, C, H, W });
  axisSum(rt, x, y, { outer: 1, C: N * C, inner: H * W }, { scale: 1 / (H * W), label: op });
}

/** dx[n,c,h,w] = dy[n,c]/(H·W) (+ dx with accumulate). dy: [N,C] f32; dx: [N,C,H,W] f32. */
export function globalAvgPoolBackward(
  rt: Runtime, dy: BufferLike, dx: BufferLike, shape: Shape4, opts: PoolBackwardOptions = {},
): void {
  const op = 'globalAvgPoolBackward';
  if (!Array.isArray(shape) || shape.length !== 4) throw new RangeError(`${op}: shape must be [N,C,H,W], got ${JSON.stringify(shape)}`);
  const [N, C, H, W] = shape;
  checkDims(op, { N, C, H, W });
  const HW = H * W;
  const inShape = `[${shape.join(',')}]`;
  checkFloats(op, 'dy', dy, N * C, `output [${N},${C}]`);
  checkFloats(op, 'dx', dx, N * C * HW, inShape);
  checkDistinct(op, { dy, dx });
  const v4 = HW % 4 === 0;
  const units = v4 ? HW / 4 : HW;
  const CH = ROW_CHUNK[rt.gpu.info.kind][v4 ? 'v4' : 's'];
  const chunks = Math.ceil(units / CH);
  const total = N * C * chunks;
  const WG = reduceTuning(rt.gpu.info.kind).WG;
  rt.dispatch({
    label: `${op} ${inShape}`,
    shader: 'pool.wgsl',
    entry: v4 ? 'gap_bwd_v4' : 'gap_bwd_s',
    constants: { WG, CH, ACCUMULATE: !!opts.accumulate },
    // W carries the units per plane.
    params: poolParams(N * C, 1, units, 1, 1, total, chunks, 1 / HW),
    bindings: { dy, [v4 ? 'dx4' : 'dx']: dx },
    workgroups: grid1d(total, WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}
