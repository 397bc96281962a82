import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { linearForward, linearBackward } from '../../src/kernels/linear.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad, dot } from '../helpers/finite_diff.js';
import { linearRef, linearBackwardRef } from '../reference/linear.js';

// Tolerances. Each output is an f32 sum of K ≤ 512 products of values in [-1, 1] (K = in for
// y and dW's reduction over N ≤ 67, K = out for dx). Rounding of a K-term sum is bounded by
// K·2^-24·Σ|terms| and in practice grows like √K·2^-24·|partial sums| ≈ 1e-5 here; atol 1e-4
// with rtol 1e-4 keeps a margin while a wrong index or transpose gives O(0.1–1) errors.
const TOL = { rtol: 1e-4, atol: 1e-4 };

describe('linear float64 reference', () => {
  it('backward = central finite differences of dot(y, r) for x, W and b', () => {
    const [N, I, O] = [3, 5, 4];
    const x = Float64Array.from(uniform(N * I, 1));
    const W = Float64Array.from(uniform(O * I, 2));
    const b = Float64Array.from(uniform(O, 3));
    const r = uniform(N * O, 4); // dL/dy for L = Σ r·y
    const L = (): number => dot(linearRef(x, W, b, N, I, O), r);
    const g = linearBackwardRef(x, W, r, N, I, O);
    // L is bilinear, so central differences are exact up to float64 rounding (~1e-10).
    const tol = { rtol: 1e-7, atol: 1e-8 };
    expectClose(g.dx, numericalGrad(L, x), tol, 'dx');
    expectClose(g.dW, numericalGrad(L, W), tol, 'dW');
    expectClose(g.db, numericalGrad(L, b), tol, 'db');
  });
});

describe('linear (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  // [N, in, out, bias]: batch 1, the ResNet18 head (512→4), sizes not multiples of any tile.
  const shapes: [number, number, number, boolean][] = [
    [1, 1, 1, true],
    [1, 512, 4, true],
    [67, 13, 7, true],
    [5, 33, 9, false],
  ];
  for (const [N, I, O, bias] of shapes) {
    it(`forward and backward N=${N} in=${I} out=${O}${bias ? '' : ' (no bias)'}`, async () => {
      const x = uniform(N * I, N * 7 + I);
      const w = uniform(O * I, O * 11 + I);
      const b = bias ? uniform(O, O + 5) : null;
      const dy = uniform(N * O, N + O + 3);
      const [X, W, DY] = [x, w, dy].map((a) => rt.upload(a));
      const B = b ? rt.upload(b) : null;
      const Y = rt.allocF32(N * O);
      const DX = rt.allocF32(N * I);
      const DW = rt.allocF32(O * I);
      const DB = rt.allocF32(O);
      const shape = { N, inFeatures: I, outFeatures: O };
      linearForward(rt, X!, W!, B, Y, shape);
      linearBackward(rt, { x: X!, W: W!, dy: DY!, dx: DX, dW: DW, db: bias ? DB : null }, shape);
      expectClose(await rt.readF32(Y, N * O), linearRef(x, w, b, N, I, O), TOL, 'y');
      const want = linearBackwardRef(x, w, dy, N, I, O);
      expectClose(await rt.readF32(DX, N * I), want.dx, TOL, 'dx');
      expectClose(await rt.readF32(DW, O * I), want.dW, TOL, 'dW');
      if (bias) expectClose(await rt.readF32(DB, O), want.db, TOL, 'db');
      for (const buf of [X, W, DY, B, Y, DX, DW, DB]) if (buf) rt.release(buf);
    });
  }

  it('accumulates dW, db and dx onto existing gradients; skips outputs that are not asked for', async () => {
    const [N, I, O] = [9, 6, 5];
    const x = uniform(N * I, 21);
    const w = uniform(O * I, 22);
    const dy = uniform(N * O, 23);
    const dW0 = uniform(O * I, 24);
    const db0 = uniform(O, 25);
    const dx0 = uniform(N * I, 26);
    const [X, W, DY, DW, DB, DX] = [x, w, dy, dW0, db0, dx0].map((a) => rt.upload(a));
    const shape = { N, inFeatures: I, outFeatures: O };
    // Parameters only (the first layer needs no dx), twice: two micro-batches' sum.
    linearBackward(rt, { x: X!, W: W!, dy: DY!, dW: DW!, db: DB! }, { ...shape, accumulateParams: true });
    linearBackward(rt, { x: X!, W: W!, dy: DY!, dW: DW!, db: DB! }, { ...shape, accumulateParams: true });
    linearBackward(rt, { x: X!, W: W!, dy: DY!, dx: DX! }, { ...shape, accumulateDx: true });
    const g = linearBackwardRef(x, w, dy, N, I, O);
    expectClose(await rt.readF32(DW!, O * I), g.dW.map((v, i) => dW0[i]! + 2 * v), TOL, 'dW accumulated');
    expectClose(await rt.readF32(DB!, O), g.db.map((v, i) => db0[i]! + 2 * v), TOL, 'db accumulated');
    expectClose(await rt.readF32(DX!, N * I), g.dx.map((v, i) => dx0[i]! + v), TOL, 'dx accumulated');
    for (const buf of [X, W, DY, DW, DB, DX]) rt.release(buf!);
  });

  it('rejects bad shapes with errors naming the op and the shapes', () => {
    const a = rt.allocF32(12);
    const b = rt.allocF32(4);
    expect(() => linearForward(rt, a, a, null, b, { N: 3, inFeatures: 4, outFeatures: 0 })).toThrow(/linear: outFeatures must be a positive integer/);
    expect(() => linearForward(rt, a, b, null, a, { N: 3, inFeatures: 4, outFeatures: 2 })).toThrow(/linear: W holds 4 elements but \[2,4\] needs 8/);
    expect(() => linearBackward(rt, { x: a, W: a, dy: b, db: b }, { N: 3, inFeatures: 4, outFeatures: 2, label: 'fc' })).toThrow(/fc: dy holds 4 elements but \[3,2\] needs 6/);
    rt.release(a);
    rt.release(b);
  });
});
