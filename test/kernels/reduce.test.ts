import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { axisSum, sumAll, meanAll, rowSum, colSum, channelSum, segmentPlan, reduceTuning } from '../../src/kernels/reduce.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { numericalGrad, dot } from '../helpers/finite_diff.js';
import { expectClose } from '../helpers/compare.js';
import { axisSumRef, axisSumBackwardRef, axisAbsSumRef } from '../reference/reduce.js';

const U = 2 ** -24;

/**
 * Per-output tolerance: the worst-case bound of the two-level sum (reduce.wgsl), widened to
 * (2√M + 16)·u·Σ|x| so it covers the scalar path's longer first level, plus one rounding of
 * the result (and of the scale). A wrong index or a dropped segment gives errors of order
 * Σ|x|/nseg, far above this.
 */
function expectWithinSumBound(got: Float32Array, want: Float64Array, absSum: Float64Array, M: number, what: string): void {
  for (let c = 0; c < want.length; c++) {
    const tol = (2 * Math.sqrt(M) + 16) * U * absSum[c]! + 2 * U * Math.abs(want[c]!) + 1e-30;
    const err = Math.abs(got[c]! - want[c]!);
    if (!(err <= tol)) expect.fail(`${what}[${c}] = ${got[c]} but expected ${want[c]} (|err| ${err} > bound ${tol})`);
  }
}

describe('reduce reference', () => {
  it('axisSum backward matches central finite differences', () => {
    const [outer, C, inner, scale] = [3, 4, 5, 0.7];
    const x = Float64Array.from(uniform(outer * C * inner, 1));
    const w = Float64Array.from(uniform(C, 2));
    const num = numericalGrad(() => dot(axisSumRef(x, outer, C, inner, scale), w), x);
    expectClose(axisSumBackwardRef(w, outer, C, inner, scale), num, { rtol: 1e-6, atol: 1e-8 }, 'dx');
  });
});

describe('reduce kernels (GPU vs float64)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  async function runAxis(outer: number, C: number, inner: number, data: Float32Array, run: (X: ReturnType<Runtime['upload']>, O: ReturnType<Runtime['upload']>) => void, init?: Float32Array) {
    const X = rt.upload(data, 'x');
    const O = init ? rt.upload(init, 'out') : rt.allocF32(C, 'out');
    run(X, O);
    const got = await rt.readF32(O, C);
    rt.release(X);
    rt.release(O);
    return got;
  }

  // [outer, C, inner] cases: direct single pass, two-level vec4, two-level scalar, inner = 1.
  const cases: [string, number, number, number][] = [
    ['one element', 1, 1, 1],
    ['rows, direct, scalar', 1, 37, 51],
    ['rows, two-level, vec4', 1, 3, 5000],
    ['rows, two-level, scalar', 1, 2, 4999],
    ['columns (inner = 1), direct', 300, 7, 1],
    ['columns (inner = 1), two-level', 2000, 3, 1],
    ['NCHW channels, odd HW', 2, 3, 35],
    ['NCHW channels, two-level vec4', 5, 3, 1600],
  ];
  for (const [name, outer, C, inner] of cases) {
    it(`axisSum ${name} [${outer},${C},${inner}]`, async () => {
      const x = uniform(outer * C * inner, outer * 31 + C * 7 + inner, -1, 1);
      const got = await runAxis(outer, C, inner, x, (X, O) => axisSum(rt, X, O, { outer, C, inner }));
      expectWithinSumBound(got, axisSumRef(x, outer, C, inner), axisAbsSumRef(x, outer, C, inner), outer * inner, name);
    });
  }

  it('splits large sums into √M segments', () => {
    const t = reduceTuning('swiftshader');
    const plan = segmentPlan(t, 64, 112 * 112);
    expect(plan.unit).toBe(4);
    expect(plan.seg * 4).toBeGreaterThanOrEqual(896);
    expect(plan.seg * 4).toBeLessThan(904);
    expect(plan.nseg).toBe(Math.ceil(plan.M / plan.seg));
  });

  it('sumAll and meanAll of 1,000,003 values around 1000 stay within the √n bound', async () => {
    // A single sequential f32 running sum would reach 1e9 (ulp 64) and drift by ~1e-3 relative.
    const n = 1_000_003;
    const x = uniform(n, 99, 999, 1001);
    const want = axisSumRef(x, 1, 1, n);
    const abs = axisAbsSumRef(x, 1, 1, n);
    const gotSum = await runAxis(1, 1, n, x, (X, O) => sumAll(rt, X, O, n));
    expectWithinSumBound(gotSum, want, abs, n, 'sumAll');
    const gotMean = await runAxis(1, 1, n, x, (X, O) => meanAll(rt, X, O, n));
    expectWithinSumBound(gotMean, Float64Array.of(want[0]! / n), Float64Array.of(abs[0]! / n), n, 'meanAll');
  });

  it('rowSum, colSum and channelSum with scale and accumulate', async () => {
    const [rows, cols] = [9, 13];
    const x = uniform(rows * cols, 5);
    const initR = uniform(rows, 6);
    const initC = uniform(cols, 7);
    const r = await runAxis(1, rows, cols, x, (X, O) => rowSum(rt, X, O, rows, cols, { scale: 0.5, accumulate: true }), initR);
    expectClose(r, axisSumRef(x, 1, rows, cols, 0.5, initR), { rtol: 1e-6, atol: 1e-6 }, 'rowSum');
    const c = await runAxis(rows, cols, 1, x, (X, O) => colSum(rt, X, O, rows, cols, { accumulate: true }), initC);
    expectClose(c, axisSumRef(x, rows, cols, 1, 1, initC), { rtol: 1e-6, atol: 1e-6 }, 'colSum');
    const shape = [3, 5, 8, 12] as const;
    const y = uniform(3 * 5 * 96, 8);
    const ch = await runAxis(3, 5, 96, y, (X, O) => channelSum(rt, X, O, shape, { scale: 2 }));
    expectClose(ch, axisSumRef(y, 3, 5, 96, 2), { rtol: 1e-5, atol: 1e-5 }, 'channelSum');
    // Two-level path with accumulate (the final pass adds to out).
    const big = uniform(3 * 2 * 3000, 9);
    const init2 = uniform(2, 10);
    const acc = await runAxis(3, 2, 3000, big, (X, O) => axisSum(rt, X, O, { outer: 3, C: 2, inner: 3000 }, { scale: 0.25, accumulate: true }), init2);
    expectClose(acc, axisSumRef(big, 3, 2, 3000, 0.25, init2), { rtol: 1e-5, atol: 1e-4 }, 'axisSum accumulate');
  });

  it('rejects bad shapes, short buffers and aliasing with clear errors', () => {
    const a = rt.allocF32(10);
    const b = rt.allocF32(1);
    expect(() => sumAll(rt, a, b, 0)).toThrow(/sumAll: inner must be a positive integer/);
    expect(() => rowSum(rt, a, b, 3, 5)).toThrow(/rowSum: x holds 10 floats but \[1,3,5\] needs 15/);
    expect(() => sumAll(rt, a, a, 10)).toThrow(/different buffers/);
    rt.release(a);
    rt.release(b);
  });
});
