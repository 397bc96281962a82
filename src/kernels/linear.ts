// Linear layer, PyTorch layout: y = x·Wᵀ + b with x: [N,in], W: [out,in], b: [out], y: [N,out].
// Backward: dx = dy·W [N,in], dW = dyᵀ·x [out,in], db = Σ_n dy [out].
// The products run in shaders/matmul.wgsl (transposes are pipeline overrides, so no transposed
// copies are made); the bias kernels live in shaders/linear.wgsl.
import type { Runtime } from './runtime.js';
import { rawBuffer, type BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { matmul } from './matmul.js';
import { grid1d } from './elementwise.js';

const LINEAR_WG = 128;

export interface LinearShape {
  /** Batch rows. */
  N: number;
  inFeatures: number;
  outFeatures: number;
  label?: string;
}

export interface LinearBackwardBuffers {
  /** [N,in], the forward input (needed for dW). */
  x: BufferLike;
  /** [out,in] (needed for dx). */
  W: BufferLike;
  /** [N,out] upstream gradient. */
  dy: BufferLike;
  /** Out: [N,in]; omitted = not computed (e.g. the network input). */
  dx?: BufferLike | null;
  /** Out: [out,in]; omitted = not computed (frozen weight). */
  dW?: BufferLike | null;
  /** Out: [out]; omitted = no bias. */
  db?: BufferLike | null;
}

export interface LinearBackwardOptions extends LinearShape {
  /** dW += dyᵀ·x and db += Σ dy, instead of overwriting them (gradient accumulation). */
  accumulateParams?: boolean;
  /** dx += dy·W instead of overwriting it. */
  accumulateDx?: boolean;
}

function bufferBytes(b: BufferLike): number {
  return 'bytes' in b ? (b as PooledBuffer).bytes : rawBuffer(b).size;
}

function checkShape(o: LinearShape): string {
  const op = o.label ?? 'linear';
  for (const [name, v] of Object.entries({ N: o.N, inFeatures: o.inFeatures, outFeatures: o.outFeatures })) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${name} must be a positive integer, got ${v}`);
  }
  return op;
}

function checkBuffer(op: string, name: string, b: BufferLike, dims: number[]): void {
  const need = dims.reduce((a, d) => a * d, 1);
  const have = Math.floor(bufferBytes(b) / 4);
  if (have < need) throw new RangeError(`${op}: ${name} holds ${have} elements but [${dims.join(',')}] needs ${need}`);
}

/** y[n,f] += b[f] for y: [N,F]. */
export function biasAdd(rt: Runtime, y: BufferLike, b: BufferLike, N: number, F: number, label = 'bias_add'): void {
  const params = { N, F };
  rt.dispatch({
    label: `${label} ${N}x${F}`,
    shader: 'linear.wgsl',
    entry: 'bias_add',
    constants: { WG: LINEAR_WG },
    params,
    bindings: { y, b },
    workgroups: grid1d(N * F, LINEAR_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** db[f] (+)= Σ_n dy[n,f] for dy: [N,F]. */
export function biasGrad(rt: Runtime, dy: BufferLike, db: BufferLike, N: number, F: number, accumulate = false, label = 'bias_grad'): void {
  const params = { N, F };
  rt.dispatch({
    label: `${label} ${N}x${F}`,
    shader: 'linear.wgsl',
    entry: 'bias_grad',
    constants: { WG: LINEAR_WG, ACCUMULATE: accumulate },
    params,
    bindings: { dy, db },
    workgroups: grid1d(F, LINEAR_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** y = x·Wᵀ + b. x: [N,in], W: [out,in], b: [out] or null, y: [N,out]. */
export function linearForward(rt: Runtime, x: BufferLike, W: BufferLike, b: BufferLike | null, y: BufferLike, o: LinearShape): void {
  const op = checkShape(o);
  const { N, inFeatures: I, outFeatures: O } = o;
  checkBuffer(op, 'x', x, [N, I]);
  checkBuffer(op, 'W', W, [O, I]);
  if (b) checkBuffer(op, 'b', b, [O]);
  checkBuffer(op, 'y', y, [N, O]);
  matmul(rt, x, W, y, { M: N, N: O, K: I, transB: true, label: `${op} forward x·Wᵀ ${N}x${O}x${I}` });
  if (b) biasAdd(rt, y, b, N, O, `${op} bias`);
}

/** Gradients of y = x·Wᵀ + b; each output is optional. */
export function linearBackward(rt: Runtime, g: LinearBackwardBuffers, o: LinearBackwardOptions): void {
  const op = checkShape(o);
  const { N, inFeatures: I, outFeatures: O } = o;
  checkBuffer(op, 'dy', g.dy, [N, O]);
  if (g.dx) {
    checkBuffer(op, 'W', g.W, [O, I]);
    checkBuffer(op, 'dx', g.dx, [N, I]);
    // dx[N,in] = dy[N,out]·W[out,in]
    matmul(rt, g.dy, g.W, g.dx, { M: N, N: I, K: O, accumulate: !!o.accumulateDx, label: `${op} dx ${N}x${I}x${O}` });
  }
  if (g.dW) {
    checkBuffer(op, 'x', g.x, [N, I]);
    checkBuffer(op, 'dW', g.dW, [O, I]);
    // dW[out,in] = dyᵀ·x: op(A) = dyᵀ reads dy [N,out] transposed, K = N.
    matmul(rt, g.dy, g.x, g.dW, { M: O, N: I, K: N, transA: true, accumulate: !!o.accumulateParams, label: `${op} dW ${O}x${I}x${N}` });
  }
  if (g.db) {
    checkBuffer(op, 'db', g.db, [O]);
    biasGrad(rt, g.dy, g.db, N, O, !!o.accumulateParams, `${op} db`);
  }
}
