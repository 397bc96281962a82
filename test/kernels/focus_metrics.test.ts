import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import {
  focusMetrics, focusSummary, FOCUS_EXCLUDED as GPU_EXCLUDED, FOCUS_SKIPPED as GPU_SKIPPED, FOCUS_STATS_LENGTH,
} from '../../src/kernels/focus_metrics.js';
import { gradCam } from '../../src/kernels/gradcam.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { rng, uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { focusMetricsRef, FOCUS_EXCLUDED, FOCUS_SKIPPED } from '../reference/focus_metrics.js';

/** Sector-like mask: inside iff x < ⌈W/2⌉ (left half, the larger half when W is odd). */
function leftHalfMask(H: number, W: number): Float32Array {
  const m = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < Math.ceil(W / 2); x++) m[y * W + x] = 1;
  return m;
}

/** Pixel indices inside / outside a mask. */
function split(m: Float32Array): [number[], number[]] {
  const inside: number[] = [];
  const outside: number[] = [];
  m.forEach((v, i) => (v > 0.5 ? inside : outside).push(i));
  return [inside, outside];
}

/**
 * Seven hand-built images on H×W with the left-half mask:
 *   0 CAM only inside (E = F = 1)        1 CAM only outside (E = F = 0)
 *   2 half inside, half outside (0.5)    3 all-zero CAM (excluded from both)
 *   4 z = 0.5 everywhere: E = |mask|/P; no pixel is > 0.5 (strictly), so F is excluded
 *   5 a focused CAM but valid = 0 (excluded from both when valid is given)
 *   6 include = 0 (skipped)
 * Values 0, 0.5, 0.75 and 1 keep every sum exact in f32.
 */
function handBuilt(H: number, W: number) {
  const P = H * W;
  const N = 7;
  const m1 = leftHalfMask(H, W);
  const [inside, outside] = split(m1);
  const z = new Float32Array(N * P);
  const m = new Float32Array(N * P);
  for (let n = 0; n < N; n++) m.set(m1, n * P);
  for (const q of inside) z[q] = 1;
  for (const q of outside) z[P + q] = 1;
  const k = Math.min(inside.length, outside.length, 10);
  for (let i = 0; i < k; i++) {
    z[2 * P + inside[i]!] = 0.75;
    z[2 * P + outside[outside.length - 1 - i]!] = 0.75;
  }
  z.fill(0.5, 4 * P, 5 * P);
  for (const q of inside) z[5 * P + q] = 0.9;
  for (const q of inside) z[6 * P + q] = 0.9;
  const valid = Uint32Array.from([1, 1, 1, 0, 1, 0, 1]);
  const include = Uint32Array.from([1, 1, 1, 1, 1, 1, 0]);
  return { N, P, z, m, valid, include, maskFraction: inside.length / P };
}

describe('focus_metrics float64 reference', () => {
  it('inside → 100%, outside → 0%, half/half → 50%, all-zero CAM and valid = 0 excluded and counted', () => {
    const { N, P, z, m, valid, include, maskFraction } = handBuilt(5, 7);
    const r = focusMetricsRef(z, m, N, P, valid, include);
    expect(Array.from(r.E)).toEqual([1, 0, 0.5, FOCUS_EXCLUDED, maskFraction, FOCUS_EXCLUDED, FOCUS_SKIPPED]);
    expect(Array.from(r.F)).toEqual([1, 0, 0.5, FOCUS_EXCLUDED, FOCUS_EXCLUDED, FOCUS_EXCLUDED, FOCUS_SKIPPED]);
    expect(Array.from(r.stats)).toEqual([1.5 + maskFraction, 4, 1.5, 3, 2, 3, 1, 7]);
    // Without valid/include flags the all-zero CAM is still excluded (Σz = 0), image 5 counts
    // (E = F = 1) and image 6 too.
    const r2 = focusMetricsRef(z, m, N, P);
    expect(Array.from(r2.stats)).toEqual([3.5 + maskFraction, 6, 3.5, 5, 1, 2, 0, 7]);
  });

  it('follows the paper formulas on a small explicit example', () => {
    // P = 4, mask = [1,1,0,0], z = [0.2, 0.6, 0.9, 0.1]:
    // E = (0.2 + 0.6)/1.8, F = |{1} ∩ mask| / |{1,2}| = 1/2.
    const r = focusMetricsRef([0.2, 0.6, 0.9, 0.1], [1, 1, 0, 0], 1, 4);
    expect(r.E[0]).toBeCloseTo(0.8 / 1.8, 15);
    expect(r.F[0]).toBe(0.5);
  });
});

describe('focus_metrics (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  interface GpuFocus { perImage: Float32Array; stats: Float32Array }

  async function runGpu(
    z: Float32Array, m: Float32Array, N: number, H: number, W: number,
    valid?: Uint32Array | null, include?: Uint32Array | null,
  ): Promise<GpuFocus> {
    const bz = rt.upload(z, 'test.z');
    const bm = rt.upload(m, 'test.mask');
    const bv = valid ? rt.upload(valid, 'test.valid') : null;
    const bi = include ? rt.upload(include, 'test.include') : null;
    const perImage = rt.allocF32(2 * N, 'test.per-image');
    const stats = rt.allocF32(FOCUS_STATS_LENGTH, 'test.stats');
    focusMetrics(rt, { z: bz, mask: bm, valid: bv, include: bi, perImage, stats }, { N, H, W });
    const out = { perImage: await rt.readF32(perImage, 2 * N), stats: await rt.readF32(stats, FOCUS_STATS_LENGTH) };
    for (const b of [bz, bm, bv, bi, perImage, stats]) if (b) rt.release(b);
    return out;
  }

  function interleave(E: Float64Array, F: Float64Array): number[] {
    return Array.from(E).flatMap((e, i) => [e, F[i]!]);
  }

  // Hand-built CAMs: 0, 0.5, 0.75 and 1 sum exactly in f32, so every E and F is exact up to
  // the final division's rounding; 1e-6 relative is ample.
  for (const [H, W, path] of [[6, 10, 'vec4'], [5, 7, 'scalar']] as const) {
    it(`hand-built CAMs ${H}×${W} (${path} path): 100%, 0%, 50%, exclusions and skips`, async () => {
      const { N, P, z, m, valid, include, maskFraction } = handBuilt(H, W);
      const want = focusMetricsRef(z, m, N, P, valid, include);
      const got = await runGpu(z, m, N, H, W, valid, include);
      expectClose(got.perImage, interleave(want.E, want.F), { rtol: 1e-6, atol: 0 }, 'per-image (E, F)');
      expectClose(got.stats, want.stats, { rtol: 1e-6, atol: 0 }, 'stats');
      const s = focusSummary(got.stats);
      expect(s.imagesE).toBe(4);
      expect(s.imagesF).toBe(3);
      expect([s.excludedE, s.excludedF, s.skipped, s.images]).toEqual([2, 3, 1, 7]);
      expect(s.percentE).toBeCloseTo((100 * (1.5 + maskFraction)) / 4, 4);
      expect(s.percentF).toBeCloseTo(50, 4);
      // Without the flags: Σz = 0 alone excludes the all-zero CAM.
      const bare = await runGpu(z, m, N, H, W);
      expectClose(bare.stats, focusMetricsRef(z, m, N, P).stats, { rtol: 1e-6, atol: 0 }, 'stats without flags');
      expect([bare.perImage[12], bare.perImage[13]], "image 6 counted without include").toEqual([1, 1]);
      expect([GPU_EXCLUDED, GPU_SKIPPED]).toEqual([FOCUS_EXCLUDED, FOCUS_SKIPPED]);
    });
  }

  it('random CAMs and sector masks at 112×112, N=3', async () => {
    const [N, H, W] = [3, 112, 112];
    const P = H * W;
    const z = uniform(N * P, 41, 0, 1);
    // A sector: pixels within a 60° cone below an apex, radius ≤ 100, per-image apex shift.
    const m = new Float32Array(N * P);
    for (let n = 0; n < N; n++) {
      const ax = 56 + 5 * (n - 1);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const dx = x - ax;
          const dy = y - 4;
          const inside = dy > 0 && Math.hypot(dx, dy) < 100 && Math.abs(Math.atan2(dx, dy)) < Math.PI / 6;
          m[n * P + y * W + x] = inside ? 1 : 0;
        }
      }
    }
    const want = focusMetricsRef(z, m, N, P);
    const got = await runGpu(z, m, N, H, W);
    // E: two sums of ≤ 12544 terms, each lane folding 49 vec4s, then a 6-level tree: worst case
    // (49 + 6 + 2)·2^-24 ≈ 3.4e-6 relative per sum, so ≤ 7e-6 for the ratio; rtol 2e-5.
    // F: exact u32 counts and one f32 division (1 ulp).
    for (let n = 0; n < N; n++) {
      expectClose([got.perImage[2 * n]!], [want.E[n]!], { rtol: 2e-5, atol: 0 }, `E[${n}]`);
      expectClose([got.perImage[2 * n + 1]!], [want.F[n]!], { rtol: 2e-7, atol: 0 }, `F[${n}]`);
    }
    expectClose(got.stats, want.stats, { rtol: 2e-5, atol: 0 }, 'stats');
  });

  it('accumulate over two batches equals one batch of both', async () => {
    const [H, W] = [6, 10];
    const P = H * W;
    const a = handBuilt(H, W);
    const [N2, seed] = [4, 7];
    const z2 = uniform(N2 * P, seed, 0, 1);
    const r = rng(seed + 1);
    const m2 = Float32Array.from({ length: N2 * P }, () => (r() < 0.6 ? 1 : 0));
    const v2 = Uint32Array.from([1, 0, 1, 1]);
    const i2 = Uint32Array.from([1, 1, 1, 0]);

    const bufs = [a.z, a.m, z2, m2].map((x) => rt.upload(x));
    const flags = [a.valid, a.include, v2, i2].map((x) => rt.upload(x));
    // Stale contents: the first call must overwrite them, the second add to the result.
    const stats = rt.upload(new Float32Array(FOCUS_STATS_LENGTH).fill(123));
    focusMetrics(rt, { z: bufs[0]!, mask: bufs[1]!, valid: flags[0], include: flags[1], stats }, { N: a.N, H, W });
    focusMetrics(rt, { z: bufs[2]!, mask: bufs[3]!, valid: flags[2], include: flags[3], stats }, { N: N2, H, W, accumulate: true });
    const acc = await rt.readF32(stats, FOCUS_STATS_LENGTH);

    const cat = (x: ArrayLike<number>, y: ArrayLike<number>) => [...Array.from(x), ...Array.from(y)];
    const both = await runGpu(
      Float32Array.from(cat(a.z, z2)), Float32Array.from(cat(a.m, m2)), a.N + N2, H, W,
      Uint32Array.from(cat(a.valid, v2)), Uint32Array.from(cat(a.include, i2)),
    );
    // Counts (slots 1, 3–7) are exact; the sums differ only in summation order (1 ulp each).
    expectClose(acc, both.stats, { rtol: 1e-6, atol: 0 }, 'accumulated vs concatenated');
    for (const i of [1, 3, 4, 5, 6, 7]) expect(acc[i], `stats[${i}]`).toBe(both.stats[i]);
    const want = focusMetricsRef(cat(a.z, z2), cat(a.m, m2), a.N + N2, P, cat(a.valid, v2), cat(a.include, i2));
    expectClose(acc, want.stats, { rtol: 1e-6, atol: 0 }, 'accumulated vs reference');
    expect(focusSummary(acc).images).toBe(11);
    for (const b of [...bufs, ...flags, stats]) rt.release(b);
  });

  it('gradCam → focusMetrics on the GPU, one 8-float readback; an all-zero CAM is excluded', async () => {
    const [N, C, h, w, H, W] = [3, 5, 4, 7, 17, 17];
    const n = N * C * h * w;
    const A = uniform(n, 91, -1, 1);
    const dA = uniform(n, 92, -1, 1);
    // Image 2: alpha < 0 everywhere and A ≥ 0, so ReLU zeroes its CAM.
    for (let i = 2 * C * h * w; i < n; i++) {
      A[i] = Math.abs(A[i]!);
      dA[i] = -Math.abs(dA[i]!) - 0.01;
    }
    const m = new Float32Array(N * H * W);
    for (let k = 0; k < N; k++) m.set(leftHalfMask(H, W), k * H * W);
    const bA = rt.upload(A);
    const bdA = rt.upload(dA);
    const bm = rt.upload(m);
    const z = rt.allocF32(N * H * W);
    const valid = rt.allocF32(N);
    const stats = rt.allocF32(FOCUS_STATS_LENGTH);
    gradCam(rt, bA, bdA, z, valid, { N, C, h, w, H, W });
    focusMetrics(rt, { z, mask: bm, valid, stats }, { N, H, W });
    const got = await rt.readF32(stats, FOCUS_STATS_LENGTH);
    // The oracle reads the GPU's own z, so thresholds at 0.5 decide identically.
    const zg = await rt.readF32(z, N * H * W);
    const vg = await rt.readU32(valid, N);
    expect(Array.from(vg)).toEqual([1, 1, 0]);
    const want = focusMetricsRef(zg, m, N, H * W, vg);
    expectClose(got, want.stats, { rtol: 1e-5, atol: 0 }, 'stats');
    const s = focusSummary(got);
    expect([s.imagesE, s.imagesF, s.excludedE, s.excludedF]).toEqual([2, 2, 1, 1]);
    expect(s.percentE).toBeGreaterThan(0);
    expect(s.percentE).toBeLessThan(100);
    for (const b of [bA, bdA, bm, z, valid, stats]) rt.release(b);
  });

  it('focusSummary: percentages, counts, NaN with no counted image', () => {
    const s = focusSummary([1.7, 2, 1.5, 2, 1, 1, 3, 6]);
    expect(s.percentE).toBeCloseTo(85, 12);
    expect(s.percentF).toBeCloseTo(75, 12);
    expect({ ...s, percentE: 0, percentF: 0 }).toEqual({ percentE: 0, percentF: 0, imagesE: 2, imagesF: 2, excludedE: 1, excludedF: 1, skipped: 3, images: 6 });
    expect(Number.isNaN(focusSummary([0, 0, 0, 0, 2, 2, 0, 2]).percentE)).toBe(true);
    expect(() => focusSummary([1, 2, 3])).toThrow(/focusSummary: stats holds 3 values, need 8/);
  });

  it('rejects bad sizes and aliasing with errors naming the op and shapes', () => {
    const z = rt.allocF32(2 * 12);
    const m = rt.allocF32(2 * 12);
    const s = rt.allocF32(8);
    const short = rt.allocF32(4);
    expect(() => focusMetrics(rt, { z, mask: m, stats: s }, { N: 0, H: 3, W: 4 })).toThrow(/focus_metrics: N must be a positive integer/);
    expect(() => focusMetrics(rt, { z, mask: m, stats: s }, { N: 3, H: 3, W: 4 })).toThrow(/focus_metrics: z holds 24 floats but \[N,H,W\] = \[3,3,4\] needs 36/);
    expect(() => focusMetrics(rt, { z, mask: m, stats: short }, { N: 2, H: 3, W: 4 })).toThrow(/focus_metrics: stats holds 4 floats but \[8\] needs 8/);
    expect(() => focusMetrics(rt, { z, mask: m, stats: z }, { N: 2, H: 3, W: 4 })).toThrow(/focus_metrics: stats and z must be different buffers/);
    for (const b of [z, m, s, short]) rt.release(b);
  });
});
