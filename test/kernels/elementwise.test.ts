import { describe, it, expect } from 'vitest';
import { accumulate, add, axpby, fill, mul, relu, reluBackward, grid1d } from '../../src/kernels/elementwise.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';

// One f32 rounding per element: relative error ≤ 2^-24 ≈ 6e-8; 1e-6 leaves margin.
const TOL = { rtol: 1e-6, atol: 1e-7 };

describe('elementwise kernels (GPU vs float64)', () => {
  const n = 1037;
  const x = uniform(n, 11, -2, 2);
  const y = uniform(n, 12, -2, 2);

  it('add, axpby, mul, relu, relu backward', async () => {
    const rt = await gpuRuntime();
    const X = rt.upload(x);
    const Y = rt.upload(y);
    const out = rt.allocF32(n);
    const cases: [string, () => void, (i: number) => number][] = [
      ['add', () => add(rt, n, X, Y, out), (i) => x[i]! + y[i]!],
      ['axpby', () => axpby(rt, n, 0.5, X, -3, Y, out), (i) => 0.5 * x[i]! - 3 * y[i]!],
      ['mul', () => mul(rt, n, X, Y, out), (i) => x[i]! * y[i]!],
      ['relu', () => relu(rt, n, X, out), (i) => Math.max(0, x[i]!)],
      ['relu_backward', () => reluBackward(rt, n, X, Y, out), (i) => (x[i]! > 0 ? y[i]! : 0)],
    ];
    for (const [name, run, ref] of cases) {
      run();
      const got = await rt.readF32(out, n);
      expectClose(got, Array.from({ length: n }, (_, i) => ref(i)), TOL, name);
    }
    fill(rt, n, out, 0.25);
    accumulate(rt, n, X, out, -2);
    accumulate(rt, n, Y, out);
    expectClose(await rt.readF32(out, n), Array.from({ length: n }, (_, i) => 0.25 - 2 * x[i]! + y[i]!), TOL, 'fill+accumulate');
    for (const b of [X, Y, out]) rt.release(b);
  });

  it('relu passes NaN through and keeps infinities, as PyTorch does', async () => {
    const rt = await gpuRuntime();
    const X = rt.upload(Float32Array.from([NaN, -1, 2, -Infinity, Infinity, 0]));
    const out = rt.allocF32(6);
    relu(rt, 6, X, out);
    const got = await rt.readF32(out, 6);
    expect(Number.isNaN(got[0])).toBe(true);
    expect(Array.from(got.slice(1))).toEqual([0, 2, 0, Infinity, 0]);
    for (const b of [X, out]) rt.release(b);
  });

  it('splits grids beyond 65535 workgroups per dimension', () => {
    expect(grid1d(100, 128)).toEqual([1, 1]);
    const [gx, gy] = grid1d(128 * 70000, 128);
    expect(gx).toBeLessThanOrEqual(65535);
    expect(gx * gy * 128).toBeGreaterThanOrEqual(128 * 70000);
  });

  it('indexes correctly past one grid row (2-D grid)', async () => {
    const rt = await gpuRuntime();
    // 300 workgroups split as 3 rows × 100 columns by forcing a small per-dimension limit.
    const big = 128 * 300 - 5;
    const data = uniform(big, 5);
    const X = rt.upload(data);
    const out = rt.allocF32(big);
    const [gx, gy] = grid1d(big, 128, 100);
    expect(gy).toBe(3);
    rt.dispatch({
      label: 'relu-2d-grid',
      shader: 'elementwise.wgsl',
      entry: 'relu',
      constants: { WG: 128 },
      params: new Uint32Array([big, 0, 0, 0]),
      bindings: [X, null, out],
      workgroups: [gx, gy],
    });
    const got = await rt.readF32(out, big);
    expectClose(got, Array.from(data, (v) => Math.max(0, v)), TOL, 'relu 2-D');
    rt.release(X);
    rt.release(out);
  });
});
