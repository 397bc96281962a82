import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import {
  maxPool2dForward, maxPool2dBackward, maxPool2dOutputShape, globalAvgPoolForward, globalAvgPoolBackward,
  type MaxPool2dParams, type Shape4,
} from '../../src/kernels/pool.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform, rng } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad, dot } from '../helpers/finite_diff.js';
import {
  maxPool2dRef, maxPool2dBackwardRef, globalAvgPoolRef, globalAvgPoolBackwardRef, type PoolRefParams,
} from '../reference/pool.js';

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
function refParams(p: MaxPool2dParams): PoolRefParams {
  return { kernel: pair(p.kernel), stride: pair(p.stride ?? p.kernel), padding: pair(p.padding ?? 0) };
}
const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Max pooling moves values without arithmetic, so y and the indices must match exactly. The
// backward adds at most ⌈k/s⌉² dy values per input in the same order as the reference; one f32
// rounding per addition (≤ 9 here) gives the 1e-6 relative tolerance. Global average pooling:
// a mean of ≤ 196 values and a scale by fl(1/HW), well inside 1e-6 relative + 1e-7 absolute.
const SUM_TOL = { rtol: 1e-6, atol: 1e-7 };

describe('pool references (float64) vs central finite differences', () => {
  it('max pool 3×3 stride 2 pad 1: dx', () => {
    const shape: Shape4 = [2, 2, 5, 6];
    const p = refParams({ kernel: 3, stride: 2, padding: 1 });
    const x = Float64Array.from(uniform(count(shape), 1));
    const { idx, y } = maxPool2dRef(x, shape, p);
    const w = Float64Array.from(uniform(y.length, 2));
    const num = numericalGrad(() => dot(maxPool2dRef(x, shape, p).y, w), x);
    expectClose(maxPool2dBackwardRef(w, idx, shape, p), num, { rtol: 1e-6, atol: 1e-8 }, 'dx');
  });

  it('global average pool: dx', () => {
    const shape: Shape4 = [2, 3, 3, 4];
    const x = Float64Array.from(uniform(count(shape), 3));
    const w = Float64Array.from(uniform(6, 4));
    const num = numericalGrad(() => dot(globalAvgPoolRef(x, shape), w), x);
    expectClose(globalAvgPoolBackwardRef(w, shape), num, { rtol: 1e-6, atol: 1e-8 }, 'dx');
  });
});

describe('pool kernels (GPU vs float64)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  async function runMaxPool(shape: Shape4, p: MaxPool2dParams, x: Float32Array, dy?: Float32Array) {
    const out = maxPool2dOutputShape(shape, p);
    const no = count(out);
    const X = rt.upload(x, 'x');
    const Y = rt.allocF32(no, 'y');
    const I = rt.allocF32(no, 'indices');
    const DY = rt.upload(dy ?? uniform(no, 7), 'dy');
    const DX = rt.allocF32(count(shape), 'dx');
    maxPool2dForward(rt, X, Y, I, shape, p);
    maxPool2dBackward(rt, DY, I, DX, shape, p);
    const res = { y: await rt.readF32(Y, no), idx: await rt.readU32(I, no), dx: await rt.readF32(DX, count(shape)), out };
    for (const b of [X, Y, I, DY, DX]) rt.release(b);
    return res;
  }

  const cases: [Shape4, MaxPool2dParams][] = [
    [[1, 3, 11, 11], { kernel: 3, stride: 2, padding: 1 }], // torchvision stem, batch 1, odd size
    [[2, 5, 7, 9], { kernel: 3, stride: 2, padding: 1 }],
    [[2, 3, 1, 1], { kernel: 3, stride: 2, padding: 1 }], // H·W = 1: the window is all padding but one
    [[1, 2, 8, 8], { kernel: 2 }], // stride defaults to the kernel, no padding
    [[2, 3, 10, 7], { kernel: 3, stride: 1, padding: 1 }], // each input in up to 9 windows
    [[1, 2, 9, 8], { kernel: [3, 2], stride: [2, 1], padding: [1, 0] }], // rectangular
  ];
  for (const [shape, p] of cases) {
    it(`max pool ${JSON.stringify(shape)} ${JSON.stringify(p)}`, async () => {
      const x = uniform(count(shape), count(shape) + 11, -3, -1); // all negative: padding must not win
      const out = maxPool2dOutputShape(shape, p);
      const dy = uniform(count(out), 12);
      const g = await runMaxPool(shape, p, x, dy);
      const ref = maxPool2dRef(x, shape, refParams(p));
      expect(Array.from(g.idx)).toEqual(Array.from(ref.idx));
      expectClose(g.y, ref.y, { rtol: 0, atol: 0 }, 'y');
      expectClose(g.dx, maxPool2dBackwardRef(dy, ref.idx, shape, refParams(p)), SUM_TOL, 'dx');
    });
  }

  it('max pool ties go to the first maximum in window order, like PyTorch', async () => {
    const shape: Shape4 = [2, 3, 9, 10];
    const r = rng(21);
    const x = Float32Array.from({ length: count(shape) }, () => Math.floor(r() * 3)); // values 0, 1, 2
    for (const p of [{ kernel: 3, stride: 2, padding: 1 }, { kernel: 3, stride: 1, padding: 1 }] as MaxPool2dParams[]) {
      const g = await runMaxPool(shape, p, x);
      const ref = maxPool2dRef(x, shape, refParams(p));
      expect(Array.from(g.idx)).toEqual(Array.from(ref.idx));
      expectClose(g.y, ref.y, { rtol: 0, atol: 0 }, 'y');
    }
  });

  it('max pool propagates NaN like PyTorch (a NaN wins; a later NaN replaces it)', async () => {
    const shape: Shape4 = [1, 2, 3, 3];
    const x = Float32Array.from([1, NaN, 3, 4, 5, 6, 7, NaN, 2, 1, 2, 3, 4, 9, 6, 7, 8, 0]);
    const g = await runMaxPool(shape, { kernel: 3 }, x);
    // PyTorch 1.13: max_pool2d(x, 3, return_indices=True) gives (nan, 7) and (9, 4).
    expect(Array.from(g.idx)).toEqual([7, 4]);
    expect(Number.isNaN(g.y[0]!)).toBe(true);
    expect(g.y[1]).toBe(9);
  });

  it('max pool backward accumulates into dx', async () => {
    const shape: Shape4 = [1, 2, 7, 7];
    const p: MaxPool2dParams = { kernel: 3, stride: 2, padding: 1 };
    const out = maxPool2dOutputShape(shape, p);
    const x = uniform(count(shape), 31);
    const dy = uniform(count(out), 32);
    const init = uniform(count(shape), 33);
    const X = rt.upload(x);
    const Y = rt.allocF32(count(out));
    const I = rt.allocF32(count(out));
    const DY = rt.upload(dy);
    const DX = rt.upload(init);
    maxPool2dForward(rt, X, Y, I, shape, p);
    maxPool2dBackward(rt, DY, I, DX, shape, p, { accumulate: true });
    const got = await rt.readF32(DX, count(shape));
    const ref = maxPool2dRef(x, shape, refParams(p));
    const want = maxPool2dBackwardRef(dy, ref.idx, shape, refParams(p)).map((v, i) => v + init[i]!);
    expectClose(got, want, SUM_TOL, 'dx accumulated');
    for (const b of [X, Y, I, DY, DX]) rt.release(b);
  });

  // Odd H·W (scalar path), H·W % 4 == 0 (vec4 path), H·W = 1 with N·C past one workgroup, 14×14.
  for (const shape of [[1, 3, 7, 9], [2, 5, 4, 4], [3, 70, 1, 1], [2, 3, 14, 14]] as Shape4[]) {
    it(`global average pool forward and backward ${JSON.stringify(shape)}`, async () => {
      const [N, C] = shape;
      const n = count(shape);
      const x = uniform(n, n + 41);
      const dy = uniform(N * C, n + 42);
      const init = uniform(n, n + 43);
      const X = rt.upload(x);
      const Y = rt.allocF32(N * C);
      const DY = rt.upload(dy);
      const DX = rt.allocF32(n);
      const DX2 = rt.upload(init);
      globalAvgPoolForward(rt, X, Y, shape);
      globalAvgPoolBackward(rt, DY, DX, shape);
      globalAvgPoolBackward(rt, DY, DX2, shape, { accumulate: true });
      expectClose(await rt.readF32(Y, N * C), globalAvgPoolRef(x, shape), SUM_TOL, 'y');
      const dx = globalAvgPoolBackwardRef(dy, shape);
      expectClose(await rt.readF32(DX, n), dx, SUM_TOL, 'dx');
      expectClose(await rt.readF32(DX2, n), dx.map((v, i) => v + init[i]!), SUM_TOL, 'dx accumulated');
      for (const b of [X, Y, DY, DX, DX2]) rt.release(b);
    });
  }

  it('rejects bad pooling parameters and short buffers with clear errors', () => {
    const a = rt.allocF32(16);
    const b = rt.allocF32(16);
    const c = rt.allocF32(16);
    expect(maxPool2dOutputShape([64, 64, 112, 112], { kernel: 3, stride: 2, padding: 1 })).toEqual([64, 64, 56, 56]);
    expect(() => maxPool2dForward(rt, a, b, c, [1, 1, 4, 4], { kernel: 3, padding: 2 })).toThrow(/maxPool2dForward: padH must be an integer in \[0, kernel\/2 = 1\]/);
    expect(() => maxPool2dForward(rt, a, b, c, [1, 1, 2, 2], { kernel: 5, padding: 1 })).toThrow(/does not fit/);
    expect(() => maxPool2dForward(rt, a, b, c, [1, 2, 4, 4], { kernel: 2 })).toThrow(/maxPool2dForward: x holds 16 floats but \[1,2,4,4\] needs 32/);
    expect(() => globalAvgPoolBackward(rt, a, a, [1, 1, 4, 4])).toThrow(/must be different buffers/);
    for (const buf of [a, b, c]) rt.release(buf);
  });
});
