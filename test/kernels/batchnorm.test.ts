import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import type { PooledBuffer } from '../../src/kernels/buffer_pool.js';
import {
  batchNormTrainForward, batchNormEvalForward, batchNormBackward,
  batchNormReluTrainForward, batchNormReluEvalForward, batchNormReluBackward,
  batchNormAddReluTrainForward, batchNormAddReluEvalForward, batchNormAddReluBackward,
  type Shape4,
} from '../../src/kernels/batchnorm.js';
import { add, relu, reluBackward } from '../../src/kernels/elementwise.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad, dot, sampleIndices } from '../helpers/finite_diff.js';
import {
  bnTrainForwardRef, bnEvalForwardRef, bnBackwardRef, bnReluBackwardRef, bnRunningUpdateRef, bnStatsRef,
} from '../reference/batchnorm.js';

const U = 2 ** -24;
const EPS = 1e-5;

// Tolerances (GPU f32 vs float64), for the small shapes here (M ≤ 1,600 per channel, data O(1)):
// the statistics' sums carry at most (1.25√M + 8)·u ≈ 3.5e-6 relative error (reduce.wgsl), so mean
// and invstd agree to ~1e-6 (STAT), and y = γ·(x − mean)·invstd + β (|y| ≲ 5) to ~1e-6 absolute
// (observed ≤ 4.2e-7 on lavapipe): Y leaves ≥ 5× margin. dx = γ·invstd·(dz − mean(dz) −
// x̂·mean(dz·x̂)) subtracts O(1) terms, so its error is absolute and scales with γ·invstd and
// with x̂'s own rounding, ~u·(|x̂| + |mean|·invstd): see dxTolerance (a channel of 3 values
// can have invstd ≈ 24 and |mean|·invstd ≈ 11). dγ and dβ are M-term sums, checked against
// the summation bound per channel (expectWithinSumBound) or GRAD where M is tiny.
const STAT = { rtol: 1e-5, atol: 1e-6 };
const Y = { rtol: 1e-5, atol: 5e-6 };
const GRAD = { rtol: 1e-5, atol: 5e-6 };
// Fused vs unfused on the GPU: the same f32 operations in the same order.
const SAME = { rtol: 1e-6, atol: 1e-7 };

/** Per-channel tolerance for an M-term f32 sum: the two-level bound widened to (2√M + 16)·u·Σ|t|, plus a relative part. */
function expectWithinSumBound(got: ArrayLike<number>, want: ArrayLike<number>, absSum: ArrayLike<number>, M: number, rtol: number, what: string): void {
  for (let c = 0; c < want.length; c++) {
    const tol = (2 * Math.sqrt(M) + 16) * U * absSum[c]! + rtol * Math.abs(want[c]!) + 1e-12;
    const err = Math.abs(got[c]! - want[c]!);
    if (!(err <= tol)) expect.fail(`${what}[${c}] = ${got[c]} but expected ${want[c]} (|err| ${err} > ${tol})`);
  }
}

/**
 * Per-element dx tolerance: 8 roundings of the O(1) terms dz, mean(dz), x̂·mean(dz·x̂) and of x̂
 * itself (whose error grows with |mean|·invstd), times γ·invstd, plus a relative part.
 */
function dxTolerance(x: ArrayLike<number>, want: ArrayLike<number>, gamma: ArrayLike<number>, shape: Shape4, eps = EPS): Float64Array {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const { mean, invstd } = bnStatsRef(x, shape, eps);
  const tol = new Float64Array(want.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.abs(gamma[c]!) * invstd[c]!;
      for (let i = 0; i < HW; i++) {
        const e = (n * C + c) * HW + i;
        const xhat = Math.abs((x[e]! - mean[c]!) * invstd[c]!);
        tol[e] = 1e-5 * Math.abs(want[e]!) + 8 * U * g * (2 + 2 * xhat + Math.abs(mean[c]!) * invstd[c]!);
      }
    }
  }
  return tol;
}

function expectCloseEach(got: ArrayLike<number>, want: ArrayLike<number>, tol: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < want.length; i++) {
    const ratio = Math.abs(got[i]! - want[i]!) / tol[i]!;
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) expect.fail(`${what}[${worst}] = ${got[worst]} but expected ${want[worst]} (tolerance ${tol[worst]})`);
}

/** Per-channel Σ|dz| and Σ|dz·x̂| (x̂ from float64 statistics), for the dβ and dγ bounds. */
function gradAbsSums(x: ArrayLike<number>, dz: ArrayLike<number>, shape: Shape4): { db: Float64Array; dg: Float64Array } {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const { mean, invstd } = bnStatsRef(x, shape, EPS);
  const db = new Float64Array(C);
  const dg = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < HW; i++) {
        const e = (n * C + c) * HW + i;
        db[c]! += Math.abs(dz[e]!);
        dg[c]! += Math.abs(dz[e]! * (x[e]! - mean[c]!) * invstd[c]!);
      }
    }
  }
  return { db, dg };
}

const count = (s: Shape4) => s[0] * s[1] * s[2] * s[3];

describe('batchnorm reference (float64) vs central finite differences', () => {
  const shape: Shape4 = [2, 3, 3, 2];
  const n = count(shape);
  const C = shape[1];
  const x = Float64Array.from(uniform(n, 1, -2, 2));
  const r = Float64Array.from(uniform(n, 2, -1, 1));
  const gamma = Float64Array.from(uniform(C, 3, 0.5, 1.5));
  const beta = Float64Array.from(uniform(C, 4, -0.5, 0.5));
  const w = Float64Array.from(uniform(n, 5));
  const FD = { rtol: 1e-5, atol: 1e-7 };

  for (const [name, withRes, withRelu] of [['bn', false, false], ['relu(bn)', false, true], ['relu(bn + r)', true, true]] as const) {
    it(`${name}: dx, dγ, dβ${withRes ? ', dresidual' : ''}`, () => {
      const f = () => dot(bnTrainForwardRef(x, gamma, beta, shape, EPS, withRes ? r : undefined, withRelu).y, w);
      const y = bnTrainForwardRef(x, gamma, beta, shape, EPS, withRes ? r : undefined, withRelu).y;
      const g = withRelu ? bnReluBackwardRef(x, y, w, gamma, shape, EPS) : { ...bnBackwardRef(x, w, gamma, shape, EPS), dresidual: w };
      expectClose(g.dx, numericalGrad(f, x), FD, 'dx');
      expectClose(g.dgamma, numericalGrad(f, gamma), FD, 'dgamma');
      expectClose(g.dbeta, numericalGrad(f, beta), FD, 'dbeta');
      if (withRes) expectClose(g.dresidual, numericalGrad(f, r), FD, 'dresidual');
    });
  }
});

describe('batchnorm kernels (GPU vs float64)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  interface Inputs {
    x: Float32Array; r: Float32Array; dy: Float32Array;
    gamma: Float32Array; beta: Float32Array; rm: Float32Array; rv: Float32Array;
  }
  function inputs(shape: Shape4, seed: number, lo = -1, hi = 1): Inputs {
    const n = count(shape);
    const C = shape[1];
    return {
      x: uniform(n, seed, lo, hi), r: uniform(n, seed + 1, -1, 1), dy: uniform(n, seed + 2, -1, 1),
      gamma: uniform(C, seed + 3, 0.5, 1.5), beta: uniform(C, seed + 4, -0.5, 0.5),
      rm: uniform(C, seed + 5, -0.2, 0.2), rv: uniform(C, seed + 6, 0.5, 2),
    };
  }

  /** Uploads, runs `body` with the named buffers, reads the listed outputs, releases everything. */
  async function withBuffers(
    shape: Shape4, data: Inputs, outputs: string[],
    body: (b: Record<string, PooledBuffer>) => void,
  ): Promise<Record<string, Float32Array>> {
    const n = count(shape);
    const C = shape[1];
    const b: Record<string, PooledBuffer> = {
      x: rt.upload(data.x, 'x'), r: rt.upload(data.r, 'r'), dy: rt.upload(data.dy, 'dy'),
      gamma: rt.upload(data.gamma, 'gamma'), beta: rt.upload(data.beta, 'beta'),
      rm: rt.upload(data.rm, 'rm'), rv: rt.upload(data.rv, 'rv'),
      y: rt.allocF32(n, 'y'), y2: rt.allocF32(n, 'y2'), dx: rt.allocF32(n, 'dx'), dz: rt.allocF32(n, 'dz'),
      mean: rt.allocF32(C, 'mean'), invstd: rt.allocF32(C, 'invstd'),
      dgamma: rt.allocF32(C, 'dgamma'), dbeta: rt.allocF32(C, 'dbeta'),
    };
    body(b);
    const out: Record<string, Float32Array> = {};
    for (const k of outputs) out[k] = await rt.readF32(b[k]!, ['mean', 'invstd', 'dgamma', 'dbeta', 'rm', 'rv'].includes(k) ? C : n);
    for (const v of Object.values(b)) rt.release(v);
    return out;
  }

  // batch 1 with odd H·W (scalar path), vec4 path, H·W = 1 with C > the workgroup size, and
  // shapes whose statistics take several segments (two-level, vec4 and scalar).
  const shapes: Shape4[] = [[1, 3, 5, 7], [2, 5, 4, 4], [3, 70, 1, 1], [4, 3, 20, 20], [3, 2, 9, 11]];
  for (const shape of shapes) {
    it(`train forward, running stats, backward, eval forward ${JSON.stringify(shape)}`, async () => {
      const d = inputs(shape, shape[1] * 100 + shape[2]);
      const M = shape[0] * shape[2] * shape[3];
      const g = await withBuffers(shape, d, ['y', 'mean', 'invstd', 'rm', 'rv', 'dx', 'dgamma', 'dbeta', 'y2'], (b) => {
        batchNormTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        batchNormBackward(rt, b.x!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape);
        batchNormEvalForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y2!, shape);
      });
      const ref = bnTrainForwardRef(d.x, d.gamma, d.beta, shape, EPS);
      expectClose(g.mean!, ref.mean, STAT, 'saveMean');
      expectClose(g.invstd!, ref.invstd, STAT, 'saveInvStd');
      expectClose(g.y!, ref.y, Y, 'y');
      const run = bnRunningUpdateRef(d.rm, d.rv, ref.mean, ref.varBiased, M, 0.1);
      expectClose(g.rm!, run.runMean, STAT, 'running_mean');
      expectClose(g.rv!, run.runVar, STAT, 'running_var');
      const bw = bnBackwardRef(d.x, d.dy, d.gamma, shape, EPS);
      expectCloseEach(g.dx!, bw.dx, dxTolerance(d.x, bw.dx, d.gamma, shape), 'dx');
      const abs = gradAbsSums(d.x, d.dy, shape);
      expectWithinSumBound(g.dbeta!, bw.dbeta, abs.db, M, 1e-6, 'dbeta');
      expectWithinSumBound(g.dgamma!, bw.dgamma, abs.dg, M, 1e-5, 'dgamma');
      // Eval uses the running statistics the train step just wrote (read back above).
      expectClose(g.y2!, bnEvalForwardRef(d.x, d.gamma, d.beta, g.rm!, g.rv!, shape, EPS), Y, 'eval y');
    });
  }

  it('momentum, eps and accumulated dγ/dβ', async () => {
    const shape: Shape4 = [2, 3, 4, 5];
    const d = inputs(shape, 77);
    const M = 40;
    const init = uniform(3, 78);
    const g = await withBuffers(shape, d, ['y', 'rm', 'rv', 'dgamma', 'dbeta'], (b) => {
      batchNormTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape, { eps: 1e-3, momentum: 0.3 });
      rt.encoder.write(b.dgamma!, init);
      rt.encoder.write(b.dbeta!, init);
      batchNormBackward(rt, b.x!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape, { accumulateParams: true });
    });
    const ref = bnTrainForwardRef(d.x, d.gamma, d.beta, shape, 1e-3);
    expectClose(g.y!, ref.y, Y, 'y (eps 1e-3)');
    const run = bnRunningUpdateRef(d.rm, d.rv, ref.mean, ref.varBiased, M, 0.3);
    expectClose(g.rm!, run.runMean, STAT, 'running_mean (momentum 0.3)');
    expectClose(g.rv!, run.runVar, STAT, 'running_var (momentum 0.3)');
    const bw = bnBackwardRef(d.x, d.dy, d.gamma, shape, 1e-3);
    expectClose(g.dgamma!, bw.dgamma.map((v, i) => v + init[i]!), GRAD, 'dgamma accumulated');
    expectClose(g.dbeta!, bw.dbeta.map((v, i) => v + init[i]!), GRAD, 'dbeta accumulated');
  });

  // Fused vs unfused (bn then elementwise relu/add from elementwise.ts) on the GPU, and vs float64.
  for (const shape of [[1, 3, 5, 7], [2, 5, 4, 4]] as Shape4[]) {
    const n = count(shape);
    it(`relu(bn(x)) fused forward/backward vs unfused and float64 ${JSON.stringify(shape)}`, async () => {
      const d = inputs(shape, 300 + n);
      const u = await withBuffers(shape, d, ['y2', 'dx', 'dgamma', 'dbeta'], (b) => {
        batchNormTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        relu(rt, n, b.y!, b.y2!);
        reluBackward(rt, n, b.y2!, b.dy!, b.dz!);
        batchNormBackward(rt, b.x!, b.dz!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape);
      });
      const f = await withBuffers(shape, d, ['y', 'dx', 'dgamma', 'dbeta', 'y2'], (b) => {
        batchNormReluTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        batchNormReluBackward(rt, b.x!, b.y!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape);
        batchNormReluEvalForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y2!, shape);
      });
      expectClose(f.y!, u.y2!, SAME, 'fused y vs unfused');
      expectClose(f.dx!, u.dx!, SAME, 'fused dx vs unfused');
      expectClose(f.dgamma!, u.dgamma!, SAME, 'fused dgamma vs unfused');
      expectClose(f.dbeta!, u.dbeta!, SAME, 'fused dbeta vs unfused');
      const ref = bnTrainForwardRef(d.x, d.gamma, d.beta, shape, EPS, undefined, true);
      expectClose(f.y!, ref.y, Y, 'y vs float64');
      // The mask comes from the GPU's y so a value rounding to the other side of 0 cannot flip it.
      const bw = bnReluBackwardRef(d.x, f.y!, d.dy, d.gamma, shape, EPS);
      expectCloseEach(f.dx!, bw.dx, dxTolerance(d.x, bw.dx, d.gamma, shape), 'dx vs float64');
      expectClose(f.dgamma!, bw.dgamma, GRAD, 'dgamma vs float64');
      expectClose(f.dbeta!, bw.dbeta, GRAD, 'dbeta vs float64');
      const run = bnRunningUpdateRef(d.rm, d.rv, ref.mean, ref.varBiased, shape[0] * shape[2] * shape[3]);
      expectClose(f.y2!, bnEvalForwardRef(d.x, d.gamma, d.beta, run.runMean, run.runVar, shape, EPS, undefined, true), Y, 'eval relu(bn)');
    });

    it(`relu(bn(x) + r) fused forward/backward vs unfused and float64 ${JSON.stringify(shape)}`, async () => {
      const d = inputs(shape, 500 + n);
      const u = await withBuffers(shape, d, ['y', 'dx', 'dz', 'dgamma', 'dbeta'], (b) => {
        batchNormTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        add(rt, n, b.y!, b.r!, b.y2!);
        relu(rt, n, b.y2!, b.y!);
        reluBackward(rt, n, b.y!, b.dy!, b.dz!);
        batchNormBackward(rt, b.x!, b.dz!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape);
      });
      const f = await withBuffers(shape, d, ['y', 'dx', 'dz', 'dgamma', 'dbeta', 'y2'], (b) => {
        batchNormAddReluTrainForward(rt, b.x!, b.r!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        batchNormAddReluBackward(rt, b.x!, b.y!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dz!, b.dgamma!, b.dbeta!, shape);
        batchNormAddReluEvalForward(rt, b.x!, b.r!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y2!, shape);
      });
      for (const k of ['y', 'dx', 'dz', 'dgamma', 'dbeta']) expectClose(f[k]!, u[k]!, SAME, `fused ${k} vs unfused`);
      const ref = bnTrainForwardRef(d.x, d.gamma, d.beta, shape, EPS, d.r, true);
      expectClose(f.y!, ref.y, Y, 'y vs float64');
      const bw = bnReluBackwardRef(d.x, f.y!, d.dy, d.gamma, shape, EPS);
      expectCloseEach(f.dx!, bw.dx, dxTolerance(d.x, bw.dx, d.gamma, shape), 'dx vs float64');
      expectClose(f.dz!, bw.dresidual, SAME, 'dresidual vs float64');
      expectClose(f.dgamma!, bw.dgamma, GRAD, 'dgamma vs float64');
      expectClose(f.dbeta!, bw.dbeta, GRAD, 'dbeta vs float64');
      const run = bnRunningUpdateRef(d.rm, d.rv, ref.mean, ref.varBiased, shape[0] * shape[2] * shape[3]);
      expectClose(f.y2!, bnEvalForwardRef(d.x, d.gamma, d.beta, run.runMean, run.runVar, shape, EPS, d.r, true), Y, 'eval relu(bn + r)');
    });
  }

  it('relu(bn(x) + r) backward accumulates into dresidual', async () => {
    const shape: Shape4 = [2, 3, 3, 3];
    const n = count(shape);
    const d = inputs(shape, 900);
    const init = uniform(n, 901);
    const g = await withBuffers(shape, d, ['y', 'dx', 'dz'], (b) => {
      batchNormAddReluTrainForward(rt, b.x!, b.r!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
      rt.encoder.write(b.dz!, init);
      batchNormAddReluBackward(rt, b.x!, b.y!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dz!, b.dgamma!, b.dbeta!, shape, { accumulateResidual: true });
    });
    const bw = bnReluBackwardRef(d.x, g.y!, d.dy, d.gamma, shape, EPS);
    expectClose(g.dz!, bw.dresidual.map((v, i) => v + init[i]!), SAME, 'dresidual accumulated');
    expectCloseEach(g.dx!, bw.dx, dxTolerance(d.x, bw.dx, d.gamma, shape), 'dx (re-masked from dy)');
  });

  // A diverged activation must stay visible: relu(bn(x)) with a NaN in channel 1 gives NaN
  // statistics, so that whole channel is NaN, and the other channels are untouched.
  for (const shape of [[2, 3, 4, 4], [1, 3, 3, 5]] as Shape4[]) {
    it(`fused relu(bn(x)) propagates a NaN through its channel ${JSON.stringify(shape)}`, async () => {
      const d = inputs(shape, 950);
      const plane = shape[2] * shape[3];
      d.x[plane + 2] = NaN; // n = 0, c = 1
      const g = await withBuffers(shape, d, ['y', 'y2'], (b) => {
        batchNormReluTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        batchNormAddReluTrainForward(rt, b.x!, b.r!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y2!, b.mean!, b.invstd!, shape);
      });
      for (const y of [g.y!, g.y2!]) {
        for (let i = 0; i < y.length; i++) {
          const c = Math.floor(i / plane) % shape[1];
          expect(Number.isNaN(y[i]!), `element ${i} (channel ${c})`).toBe(c === 1);
        }
      }
    });
  }

  // 200,000 (vec4 path) and 200,978 (scalar path) elements per channel with means far from 0:
  // E[x²] − E[x]² in f32 loses everything here; the corrected two-pass keeps ~1e-6.
  for (const shape of [[8, 2, 125, 200], [2, 2, 317, 317]] as Shape4[]) {
    it(`large channels around 1000 and -300 ${JSON.stringify(shape)}`, async () => {
      const [N, C, H, W] = shape;
      const HW = H * W;
      const M = N * HW;
      const d = inputs(shape, 4242);
      const noise = [1, 2];
      const offset = [1000, -300];
      for (let nn = 0; nn < N; nn++) {
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < HW; i++) {
            const e = (nn * C + c) * HW + i;
            d.x[e] = offset[c]! + noise[c]! * d.r[e]!;
          }
        }
      }
      // The naive single-pass f32 formula (sequential running sums) is wrong by far more than our tolerance.
      let s = Math.fround(0);
      let q = Math.fround(0);
      for (let nn = 0; nn < N; nn++) {
        for (let i = 0; i < HW; i++) {
          const v = d.x[nn * C * HW + i]!;
          s = Math.fround(s + v);
          q = Math.fround(q + Math.fround(v * v));
        }
      }
      const naiveVar = Math.fround(q / M) - Math.fround(s / M) ** 2;
      const ref = bnTrainForwardRef(d.x, d.gamma, d.beta, shape, EPS);
      expect(Math.abs(naiveVar - ref.varBiased[0]!) / ref.varBiased[0]!).toBeGreaterThan(0.1);

      const g = await withBuffers(shape, d, ['y', 'mean', 'invstd', 'rv', 'dx', 'dgamma', 'dbeta'], (b) => {
        batchNormTrainForward(rt, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, b.y!, b.mean!, b.invstd!, shape);
        batchNormBackward(rt, b.x!, b.dy!, b.gamma!, b.mean!, b.invstd!, b.dx!, b.dgamma!, b.dbeta!, shape);
      });
      // mean: one rounding of |mean| ≤ 1000 (3e-5) plus the S1 sum's bound (< 1e-5); var: the S2
      // bound (√M/2 + 8)·u ≈ 1.4e-5 relative, so invstd and running_var to 3e-5 relative.
      expectClose(g.mean!, ref.mean, { rtol: 1e-7, atol: 2e-5 }, 'saveMean');
      expectClose(g.invstd!, ref.invstd, { rtol: 3e-5, atol: 0 }, 'saveInvStd');
      const run = bnRunningUpdateRef(d.rm, d.rv, ref.mean, ref.varBiased, M);
      expectClose(g.rv!, run.runVar, { rtol: 3e-5, atol: 0 }, 'running_var');
      // y = γ·(x − mean)·invstd: the mean's rounding (≤ 3e-5) times invstd (≤ 1.8) dominates.
      const idx = sampleIndices(count(shape), 20000);
      const pick = (a: ArrayLike<number>) => idx.map((i) => a[i]!);
      expectClose(pick(g.y!), pick(ref.y), { rtol: 3e-5, atol: 1e-4 }, 'y');
      const bw = bnBackwardRef(d.x, d.dy, d.gamma, shape, EPS);
      expectClose(pick(g.dx!), pick(bw.dx), { rtol: 1e-4, atol: 1e-4 }, 'dx');
      const abs = gradAbsSums(d.x, d.dy, shape);
      expectWithinSumBound(g.dbeta!, bw.dbeta, abs.db, M, 1e-6, 'dbeta');
      expectWithinSumBound(g.dgamma!, bw.dgamma, abs.dg, M, 3e-5, 'dgamma');
    });
  }

  it('rejects bad shapes, short buffers, aliasing and one value per channel', () => {
    const a = rt.allocF32(24);
    const c = rt.allocF32(3);
    const c2 = rt.allocF32(3);
    const c3 = rt.allocF32(3);
    const c4 = rt.allocF32(3);
    const y = rt.allocF32(24);
    expect(() => batchNormTrainForward(rt, a, c, c2, c3, c4, y, c, c2, [2, 3, 2, 0])).toThrow(/batchNormTrainForward: W must be a positive integer/);
    expect(() => batchNormTrainForward(rt, a, c, c2, c3, c4, y, c, c2, [2, 3, 2, 3])).toThrow(/x holds 24 floats but \[2,3,2,3\] needs 36/);
    expect(() => batchNormEvalForward(rt, a, c, c2, c3, c4, a, [2, 3, 2, 2])).toThrow(/batchNormEvalForward: x and y must be different buffers/);
    expect(() => batchNormTrainForward(rt, a, c, c2, c3, c4, y, c, c2, [1, 24, 1, 1])).toThrow(/more than one value per channel/);
    expect(() => batchNormBackward(rt, a, y, c, c2, c3, y, c4, c, [2, 3, 2, 2])).toThrow(/batchNormBackward: dy and dx must be different buffers/);
    for (const b of [a, c, c2, c3, c4, y]) rt.release(b);
  });
});
