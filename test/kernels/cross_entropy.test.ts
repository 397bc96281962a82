import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { crossEntropy, parseCrossEntropyStats } from '../../src/kernels/cross_entropy.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { rng, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad } from '../helpers/finite_diff.js';
import { crossEntropyRef, wBackMixWeights, type CeTargetRef } from '../reference/cross_entropy.js';

// Tolerances. Each row is a K ≤ 7 term max/exp/sum/log in f32: WGSL's exp and log are accurate
// to a few ulp for |arguments| ≲ 20, so per-row CE and dlogits carry ~1e-6 relative error;
// the batch sums in ce_reduce add ≤ N·2^-24 ≈ 4e-6 relative for N = 67. rtol 1e-4 leaves a
// 10–100× margin while an indexing bug (wrong row/class) gives O(1e-2…1) errors.
const TOL = { rtol: 1e-4, atol: 1e-6 };

/** Hard labels in [0,K). */
function labels(N: number, K: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: N }, () => Math.floor(r() * K));
}

/** CutMix-style soft targets: λ·onehot(a) + (1−λ)·onehot(b), λ the kept area fraction. */
function cutmixTargets(N: number, K: number, seed: number): Float32Array {
  const r = rng(seed);
  const t = new Float32Array(N * K);
  for (let i = 0; i < N; i++) {
    const lam = r();
    t[i * K + Math.floor(r() * K)] += lam;
    t[i * K + Math.floor(r() * K)] += 1 - lam;
  }
  return t;
}

/** wBackMix weights with λ = 1, f = 0.25: masked samples (every 4th) 1.75, the others 0.75. */
function backmixWeights(N: number): Float32Array {
  return wBackMixWeights(Array.from({ length: N }, (_, i) => i % 4 === 0), 1, 0.25);
}

describe('cross_entropy float64 reference', () => {
  it('matches torch.nn.functional.cross_entropy (reduction none, then (w·ce).mean()) and its autograd', () => {
    // Values printed by PyTorch 1.13 in float64 for these inputs (hard and probability targets).
    const z = [0.5, -1.25, 2.0, 0.125, 3.0, 3.0, -2.5, 1.0, -0.75, 0.25, 0.5, -4.0];
    const w = [0.85, 1.6, 0.85];
    const hard = crossEntropyRef(z, { labels: [2, 1, 3] }, w, 3, 4);
    expectClose(hard.ce, [0.3473127897970557, 0.7605357246500126, 5.230642645014606], { rtol: 1e-12, atol: 0 }, 'ce');
    expect(hard.loss).toBeCloseTo(1.9860397596766441, 12);
    expectClose(hard.dlogits, [
      0.0446704080915805, 0.007762552969614616, -0.08313445362175592, 0.030701492560560772,
      0.24928850862684637, -0.28404482470648695, 0.0010187851569934986, 0.03373753092264701,
      0.039094485287421314, 0.10626982894975684, 0.13645316139854655, -0.2818174756357247,
    ], { rtol: 1e-10, atol: 1e-14 }, 'dlogits');
    const soft = crossEntropyRef(z, { soft: [0.7, 0.3, 0, 0, 0, 0.25, 0.75, 0, 0.5, 0, 0, 0.5] }, w, 3, 4);
    expectClose(soft.ce, [2.3723127897970557, 4.885535724650013, 3.6056426450146057], { rtol: 1e-12, atol: 0 }, 'soft ce');
    expect(soft.loss).toBeCloseTo(4.299373093009978, 12);
    expectClose(soft.dlogits, [
      -0.15366292524175282, -0.07723744703038538, 0.2001988797115774, 0.030701492560560772,
      0.24928850862684637, 0.11595517529351304, -0.3989812148430065, 0.03373753092264701,
      -0.10257218137924536, 0.10626982894975684, 0.13645316139854655, -0.140150808969058,
    ], { rtol: 1e-10, atol: 1e-14 }, 'soft dlogits');
    // Row 1 ties (3.0, 3.0): the first maximum wins, like torch.argmax.
    expect(Array.from(hard.pred)).toEqual([2, 0, 2]);
  });

  const fdCases: [string, number, number, (N: number, K: number) => CeTargetRef][] = [
    ['hard', 5, 4, (N, K) => ({ labels: labels(N, K, 11) })],
    ['soft (CutMix)', 6, 7, (N, K) => ({ soft: cutmixTargets(N, K, 12) })],
    // Soft rows that do not sum to 1 exercise the Σt·softmax term of the gradient.
    ['soft (unnormalised)', 3, 5, (N, K) => ({ soft: uniform(N * K, 13, 0, 1) })],
  ];
  for (const [name, N, K, makeTarget] of fdCases) {
    it(`backward = central finite differences of gradScale·loss, ${name} targets, N=${N} K=${K}`, () => {
      const z = Float64Array.from(uniform(N * K, 100 + K, -3, 3));
      const w = backmixWeights(N);
      const target = makeTarget(N, K);
      const gradScale = 1.7;
      const analytic = crossEntropyRef(z, target, w, N, K, gradScale).dlogits;
      const numeric = numericalGrad(() => gradScale * crossEntropyRef(z, target, w, N, K).loss, z);
      // float64 central differences with h = 1e-6 agree to ~1e-9 on O(1) functions.
      expectClose(analytic, numeric, { rtol: 1e-6, atol: 1e-8 }, 'dlogits');
    });
  }
});

describe('cross_entropy (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  interface GpuOut {
    ce: Float32Array;
    dlogits: Float32Array;
    pred: Uint32Array;
    correct: Uint32Array;
    stats: Float32Array;
  }

  async function runGpu(
    z: Float32Array, target: { labels: Uint32Array } | { soft: Float32Array }, w: Float32Array | null,
    N: number, K: number, gradScale = 1, grad = true,
  ): Promise<GpuOut> {
    const logits = rt.upload(z, 'test.logits');
    const t = 'labels' in target ? rt.upload(target.labels, 'test.labels') : rt.upload(target.soft, 'test.soft');
    const weights = w ? rt.upload(w, 'test.weights') : null;
    const loss = rt.allocF32(N);
    const dlogits = grad ? rt.allocF32(N * K) : null;
    const pred = rt.allocF32(N);
    const correct = rt.allocF32(N);
    const stats = rt.allocF32(4);
    crossEntropy(rt, {
      logits, target: 'labels' in target ? { labels: t } : { soft: t }, weights, loss, dlogits, pred, correct, stats,
    }, { N, K, gradScale });
    const out: GpuOut = {
      ce: await rt.readF32(loss, N),
      dlogits: dlogits ? await rt.readF32(dlogits, N * K) : new Float32Array(0),
      pred: await rt.readU32(pred, N),
      correct: await rt.readU32(correct, N),
      stats: await rt.readF32(stats, 4),
    };
    for (const b of [logits, t, weights, loss, dlogits, pred, correct, stats]) if (b) rt.release(b);
    return out;
  }

  function check(got: GpuOut, z: Float32Array, target: CeTargetRef, w: Float32Array | null, N: number, K: number, gradScale = 1): void {
    const want = crossEntropyRef(z, target, w, N, K, gradScale);
    expectClose(got.ce, want.ce, TOL, 'ce');
    if (got.dlogits.length) expectClose(got.dlogits, want.dlogits, TOL, 'dlogits');
    expect(Array.from(got.pred), 'pred').toEqual(Array.from(want.pred));
    expect(Array.from(got.correct), 'correct').toEqual(Array.from(want.correct));
    const s = parseCrossEntropyStats(got.stats);
    expectClose([s.loss, s.weightedSum, s.sum], [want.loss, want.weightedSum, want.sum], TOL, 'stats');
    expect(s.correct, 'correct count').toBe(want.correctCount);
  }

  const hardShapes: [number, number][] = [[1, 1], [1, 4], [67, 4], [67, 7]];
  for (const [N, K] of hardShapes) {
    it(`hard labels, wBackMix weights, N=${N} K=${K}`, async () => {
      const z = uniform(N * K, N * 31 + K, -4, 4);
      const y = labels(N, K, N + K);
      const w = backmixWeights(N);
      check(await runGpu(z, { labels: y }, w, N, K), z, { labels: y }, w, N, K);
    });
  }

  const softShapes: [number, number][] = [[1, 1], [1, 4], [67, 7]];
  for (const [N, K] of softShapes) {
    it(`soft (CutMix) targets, wBackMix weights, gradScale 0.5, N=${N} K=${K}`, async () => {
      const z = uniform(N * K, N * 37 + K, -4, 4);
      const t = cutmixTargets(N, K, N * 3 + K);
      const w = backmixWeights(N);
      check(await runGpu(z, { soft: t }, w, N, K, 0.5), z, { soft: t }, w, N, K, 0.5);
    });
  }

  it('logits of magnitude 1e4 give finite loss and gradients (max-shifted log-softmax)', async () => {
    const N = 6;
    const K = 4;
    // Rows mix ±1e4 so exp(z) alone would overflow (e^1e4) or underflow to 0 for every class.
    const z = Float32Array.from([
      1e4, -1e4, 0, 5e3,
      -1e4, -1e4, -1e4, -1e4 + 1,
      1e4, 1e4, -1e4, 1e4 - 2,
      -1e4, 1e4, 1e4, -1e4,
      1e4, 1e4 - 1, 1e4 - 1, 1e4 - 3,
      -1e4, -9999.5, -1e4, -1e4,
    ]);
    const y = Uint32Array.from([0, 3, 2, 1, 1, 0]);
    const w = backmixWeights(N);
    const hard = await runGpu(z, { labels: y }, w, N, K);
    for (const v of [...hard.ce, ...hard.dlogits, ...hard.stats]) expect(Number.isFinite(v)).toBe(true);
    check(hard, z, { labels: y }, w, N, K);
    // The label class sits 2e4 below the two maxima: CE = 2e4 + log(2 + e^-2), to f32 ulp (2e-3).
    expect(hard.ce[2]).toBeCloseTo(2e4 + Math.log(2 + Math.exp(-2)), 2);
    const t = cutmixTargets(N, K, 5);
    const soft = await runGpu(z, { soft: t }, w, N, K);
    for (const v of [...soft.ce, ...soft.dlogits, ...soft.stats]) expect(Number.isFinite(v)).toBe(true);
    check(soft, z, { soft: t }, w, N, K);
  });

  it('evaluation mode: no weights (all 1), no dlogits, stats accumulate over calls', async () => {
    const N = 19;
    const K = 4;
    const z1 = uniform(N * K, 71, -2, 2);
    const z2 = uniform(N * K, 72, -2, 2);
    const y = labels(N, K, 73);
    const Y = rt.upload(y);
    const stats = rt.upload(new Float32Array([0.5, 1, 2, 3]));
    const ce = rt.allocF32(N);
    for (const z of [z1, z2]) {
      const Z = rt.upload(z);
      crossEntropy(rt, { logits: Z, target: { labels: Y }, loss: ce, stats }, { N, K, accumulateStats: true });
      rt.release(Z);
    }
    const got = parseCrossEntropyStats(await rt.readF32(stats, 4));
    const r1 = crossEntropyRef(z1, { labels: y }, null, N, K);
    const r2 = crossEntropyRef(z2, { labels: y }, null, N, K);
    expectClose(await rt.readF32(ce, N), r2.ce, TOL, 'ce of the last call');
    expectClose([got.loss, got.weightedSum, got.sum], [0.5 + r1.loss + r2.loss, 1 + r1.sum + r2.sum, 2 + r1.sum + r2.sum], TOL, 'accumulated stats');
    expect(got.correct).toBe(3 + r1.correctCount + r2.correctCount);
    for (const b of [Y, stats, ce]) rt.release(b);
  });

  it('an out-of-range label yields NaN for that row only', async () => {
    const z = uniform(3 * 4, 5);
    const y = Uint32Array.from([1, 4, 0]);
    const got = await runGpu(z, { labels: y }, null, 3, 4);
    expect(Number.isNaN(got.ce[1])).toBe(true);
    expect(Number.isNaN(got.dlogits[4])).toBe(true);
    expect(Number.isFinite(got.ce[0]) && Number.isFinite(got.ce[2])).toBe(true);
    expect(Number.isFinite(got.dlogits[0]) && Number.isFinite(got.dlogits[8])).toBe(true);
  });

  it('rejects bad sizes with errors naming the op and the shapes', () => {
    const a = rt.allocF32(8);
    const l = rt.allocF32(2);
    expect(() => crossEntropy(rt, { logits: a, target: { labels: l } }, { N: 0, K: 4 })).toThrow(/cross_entropy: N must be a positive integer/);
    expect(() => crossEntropy(rt, { logits: a, target: { labels: l } }, { N: 3, K: 4 })).toThrow(/cross_entropy: logits holds 8 elements but \[N,K\] = \[3,4\] needs 12/);
    expect(() => crossEntropy(rt, { logits: a, target: { soft: l } }, { N: 2, K: 4 })).toThrow(/soft targets holds 2 elements but \[N,K\] = \[2,4\] needs 8/);
    rt.release(a);
    rt.release(l);
  });
});
