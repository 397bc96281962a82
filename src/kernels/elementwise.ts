// Launchers for shaders/elementwise.wgsl. All buffers are flat f32 arrays of `n` elements.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import { ELEMENTWISE_WG } from './tuning.js';

/** Workgroup grid for `n` threads of `wg`, split over y past the 65535-per-dimension limit. */
export function grid1d(n: number, wg: number, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

function launch(rt: Runtime, entry: string, n: number, x: BufferLike | null, y: BufferLike | null, out: BufferLike, a = 0, b = 0): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${entry}: n must be a non-negative integer, got ${n}`);
  rt.dispatch({
    label: entry,
    shader: 'elementwise.wgsl',
    entry,
    constants: { WG: ELEMENTWISE_WG },
    params: { n, a, b },
    bindings: { ...(x && { x }), ...(y && { y }), out },
    workgroups: grid1d(n, ELEMENTWISE_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** out = a·x + b·y. `out` may alias neither input (WebGPU forbids read+write aliasing). */
export function axpby(rt: Runtime, n: number, a: number, x: BufferLike, b: number, y: BufferLike, out: BufferLike): void {
  launch(rt, 'axpby', n, x, y, out, a, b);
}

export function add(rt: Runtime, n: number, x: BufferLike, y: BufferLike, out: BufferLike): void {
  launch(rt, 'axpby', n, x, y, out, 1, 1);
}

export function mul(rt: Runtime, n: number, x: BufferLike, y: BufferLike, out: BufferLike): void {
  launch(rt, 'mul', n, x, y, out);
}

export function relu(rt: Runtime, n: number, x: BufferLike, out: BufferLike): void {
  launch(rt, 'relu', n, x, null, out);
}

/** dx = dy · [x > 0]. */
export function reluBackward(rt: Runtime, n: number, x: BufferLike, dy: BufferLike, dx: BufferLike): void {
  launch(rt, 'relu_backward', n, x, dy, dx);
}

/** out += a·x, in place: how gradients from several consumers are summed. */
export function accumulate(rt: Runtime, n: number, x: BufferLike, out: BufferLike, a = 1): void {
  launch(rt, 'accumulate', n, x, null, out, a);
}

/** out = value for n elements. */
export function fill(rt: Runtime, n: number, out: BufferLike, value: number): void {
  launch(rt, 'fill', n, null, null, out, value);
}
