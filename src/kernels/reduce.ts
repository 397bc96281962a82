// Launchers for shaders/reduce.wgsl: sums of f32 buffers to a scalar, per row, per column and
// per NCHW channel, all as one kernel family over an [outer, C, inner] view (see the shader
// for the two-level scheme and its error bound, about (√M/2 + 8)·2^-24·Σ|x| for M summed
// elements per output).
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import { rawBuffer } from './encoder.js';
import { reduceTuning, type ReduceTuning } from './tuning.js';
import { grid1d } from './elementwise.js';

/** An NCHW activation shape. */
export type Shape4 = readonly [number, number, number, number];

export { reduceTuning, type ReduceTuning };

/** Floats a buffer can hold (the size the caller asked the pool for, not its size class). */
export function bufferFloats(b: BufferLike): number {
  return Math.floor(('bytes' in b ? b.bytes : rawBuffer(b).size) / 4);
}

/** Throws a clear error when `b` holds fewer than `need` floats. */
export function checkFloats(op: string, name: string, b: BufferLike, need: number, shape: string): void {
  const have = bufferFloats(b);
  if (have < need) throw new RangeError(`${op}: ${name} holds ${have} floats but ${shape} needs ${need}`);
}

export function checkDims(op: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  }
}

/** Throws when two buffers that a kernel writes and reads are the same GPU buffer. */
export function checkDistinct(op: string, bufs: Record<string, BufferLike | null | undefined>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, b] of Object.entries(bufs)) {
    if (!b) continue;
    const raw = rawBuffer(b);
    const other = seen.get(raw);
    if (other) throw new Error(`${op}: ${name} and ${other} must be different buffers`);
    seen.set(raw, name);
  }
}

/**
 * How one output's M elements split into segments: `unit` is 4 when whole vec4s never cross
 * an output's rows (inner % 4 == 0); inner, M and seg are in units.
 */
export interface SegmentPlan {
  unit: 1 | 4;
  inner: number;
  M: number;
  seg: number;
  nseg: number;
}

/** Segments of ≈√M elements, so both levels of the sum are ≈√M long (see reduce.wgsl). */
export function segmentPlan(t: ReduceTuning, outer: number, inner: number, allowDirect = true): SegmentPlan {
  const unit: 1 | 4 = inner % 4 === 0 ? 4 : 1;
  const M = outer * inner;
  const Mu = M / unit;
  const segElems = M <= t.directMax && allowDirect ? M : Math.max(t.minSeg, Math.ceil(Math.sqrt(M)));
  const seg = Math.min(Math.max(1, Math.ceil(segElems / unit)), Mu);
  return { unit, inner: inner / unit, M: Mu, seg, nseg: Math.ceil(Mu / seg) };
}

export interface SumOptions {
  /** Multiplies the sum (1/M for a mean). */
  scale?: number;
  /** out += scale·sum instead of out = scale·sum. */
  accumulate?: boolean;
  label?: string;
}

export interface AxisDims {
  outer: number;
  C: number;
  inner: number;
}


/**
 * out[c] = scale·Σ_{o<outer, i<inner} x[(o·C + c)·inner + i] (+ out[c] with accumulate).
 * x: [outer, C, inner] f32; out: [C] f32, a different buffer from x.
 */
export function axisSum(rt: Runtime, x: BufferLike, out: BufferLike, dims: AxisDims, o: SumOptions = {}): void {
  const op = o.label ?? 'axisSum';
  const { outer, C, inner } = dims;
  checkDims(op, { outer, C, inner });
  const shape = `[${outer},${C},${inner}]`;
  checkFloats(op, 'x', x, outer * C * inner, shape);
  checkFloats(op, 'out', out, C, shape);
  checkDistinct(op, { x, out });
  const t = reduceTuning(rt.gpu.info.kind);
  const plan = segmentPlan(t, outer, inner);
  const scale = o.scale ?? 1;
  const accumulate = !!o.accumulate;
  const shader = plan.unit === 4 ? 'reduce_v4.wgsl' : 'reduce_s.wgsl';
  const maxDim = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const params = { C, inner: plan.inner, M: plan.M, seg: plan.seg, nseg: plan.nseg, scale };
  if (plan.nseg === 1) {
    rt.dispatch({
      label: `${op} ${shape}`,
      shader,
      entry: 'partial',
      constants: { WG: t.WG, DIRECT: true, ACCUMULATE: accumulate },
      params,
      bindings: { x, part: out },
      workgroups: grid1d(C, t.WG, maxDim),
    });
    return;
  }
  const part = rt.allocF32(C * plan.nseg, `${op}.partials`);
  rt.dispatch({
    label: `${op} partials ${shape}`,
    shader,
    entry: 'partial',
    constants: { WG: t.WG },
    params,
    bindings: { x, part },
    workgroups: grid1d(C * plan.nseg, t.WG, maxDim),
  });
  rt.dispatch({
    label: `${op} final ${shape}`,
    shader,
    entry: 'final_sum',
    constants: { WG: t.WG, ACCUMULATE: accumulate },
    params,
    bindings: { partIn: part, out },
    workgroups: grid1d(C, t.WG, maxDim),
  });
  rt.release(part);
}

/** out[0] = scale·Σ x[i]. x: [n] f32; out: [1] f32. */
export function sumAll(rt: Runtime, x: BufferLike, out: BufferLike, n: number, o: SumOptions = {}): void {
  axisSum(rt, x, out, { outer: 1, C: 1, inner: n }, { ...o, label: o.label ?? 'sumAll' });
}

/** out[0] = scale·(Σ x[i]) / n. x: [n] f32; out: [1] f32. */
export function meanAll(rt: Runtime, x: BufferLike, out: BufferLike, n: number, o: SumOptions = {}): void {
  axisSum(rt, x, out, { outer: 1, C: 1, inner: n }, { ...o, scale: (o.scale ?? 1) / n, label: o.label ?? 'meanAll' });
}

/** out[r] = scale·Σ_c x[r,c]. x: [rows, cols] f32 row-major; out: [rows] f32. */
export function rowSum(rt: Runtime, x: BufferLike, out: BufferLike, rows: number, cols: number, o: SumOptions = {}): void {
  axisSum(rt, x, out, { outer: 1, C: rows, inner: cols }, { ...o, label: o.label ?? 'rowSum' });
}

/**
 * out[c] = scale·Σ_r x[r,c] — e.g. a Linear bias gradient from dy: [N, out].
 * x: [rows, cols] f32 row-major; out: [cols] f32.
 */
export function colSum(rt: Runtime, x: BufferLike, out: BufferLike, rows: number, cols: number, o: SumOptions = {}): void {
  axisSum(rt, x, out, { outer: rows, C: cols, inner: 1 }, { ...o, label: o.label ?? 'colSum' });
}

/** out[c] = scale·Σ_{n,h,w} x[n,c,h,w]. x: [N,C,H,W] f32; out: [C] f32. */
export function channelSum(
  rt: Runtime, x: BufferLike, out: BufferLike, shape: Shape4, o: SumOptions = {},
): void {
  const [N, C, H, W] = shape;
  checkDims(o.label ?? 'channelSum', { N, C, H, W });
  axisSum(rt, x, out, { outer: N, C, inner: H * W }, { ...o, label: o.label ?? 'channelSum' });
}
