import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Runtime } from '../../src/kernels/runtime.js';
import { gradCam, GRADCAM_MIN_RANGE, type GradCamDims } from '../../src/kernels/gradcam.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import {
  gradCamRef, linearTaps, minMaxNormRef, upsampleBilinearRef, F32_MIN_NORMAL, type GradCamRef,
} from '../reference/gradcam.js';

const U = 2 ** -24;

interface TorchBilinear { N: number; h: number; w: number; H: number; W: number; x: number[]; y_f32: number[]; y_f64: number[] }
interface TorchFixture {
  torch: string;
  bilinear: TorchBilinear[];
  gradcam: GradCamDims & { A: number[]; dA: number[]; alpha: number[]; cam: number[]; up: number[]; z: number[]; valid: number[] };
}

// Written by scripts/torch/gradcam_fixture.py (PyTorch 1.13, F.interpolate bilinear,
// align_corners=False), committed so the test runs without Python.
const torchFixture = JSON.parse(
  readFileSync(new URL('../fixtures/gradcam/torch_gradcam.json', import.meta.url), 'utf8'),
) as TorchFixture;

describe('gradcam float64 reference', () => {
  it('bilinear taps follow align_corners=False: hand-computed 1-D cases', () => {
    // 3 → 5: scale 0.6, src = 0.6·(X + 0.5) − 0.5 = −0.2 (clamped to 0), 0.4, 1.0, 1.6, 2.2 (edge).
    const up = upsampleBilinearRef([10, 20, 40], 1, 1, 3, 1, 5);
    expectClose(up, [10, 0.6 * 10 + 0.4 * 20, 20, 0.4 * 20 + 0.6 * 40, 40], { rtol: 1e-15, atol: 0 }, '3→5');
    const t = linearTaps(4, 3, 5);
    expect([t.i0, t.i1]).toEqual([2, 2]); // last column replicated
    // 4 → 2: scale 2, src = 0.5 and 2.5: plain pair averages, no antialiasing.
    expectClose(upsampleBilinearRef([1, 3, 7, 15], 1, 1, 4, 1, 2), [2, 11], { rtol: 1e-15, atol: 0 }, '4→2');
    // Same size: the identity.
    expectClose(upsampleBilinearRef([1, 2, 3], 1, 1, 3, 1, 3), [1, 2, 3], { rtol: 0, atol: 0 }, '3→3');
  });

  it('bilinear 2×2 → 4×4 equals the hand-computed table (torch.arange(4).view(1,1,2,2))', () => {
    expectClose(upsampleBilinearRef([0, 1, 2, 3], 1, 2, 2, 4, 4), [
      0, 0.25, 0.75, 1,
      0.5, 0.75, 1.25, 1.5,
      1.5, 1.75, 2.25, 2.5,
      2, 2.25, 2.75, 3,
    ], { rtol: 1e-15, atol: 0 }, '2×2→4×4');
  });

  it('linearTaps agrees with the align_corners=False formula at every output index', () => {
    for (const [inS, outS] of [[3, 17], [7, 17], [4, 112], [7, 3], [5, 5]] as const) {
      for (let d = 0; d < outS; d++) {
        const src = Math.max((inS / outS) * (d + 0.5) - 0.5, 0);
        const t = linearTaps(d, inS, outS);
        // Interpolating the identity f(i) = i must give back src (clamped to the last index).
        expect(t.l0 * t.i0 + t.l1 * t.i1).toBeCloseTo(Math.min(src, inS - 1), 12);
        expect(t.l0 + t.l1).toBeCloseTo(1, 15);
        expect(t.l1 >= 0 && t.l1 < 1 && t.i1 - t.i0 <= 1).toBe(true);
      }
    }
  });

  it('bilinear matches torch.nn.functional.interpolate (float64) on the committed fixture', () => {
    for (const c of torchFixture.bilinear) {
      const got = upsampleBilinearRef(c.x, c.N, c.h, c.w, c.H, c.W);
      expectClose(got, c.y_f64, { rtol: 1e-12, atol: 1e-14 }, `${c.h}x${c.w}→${c.H}x${c.W}`);
    }
  });

  it('hand-computed GradCAM: alpha, weighted sum, ReLU, upsampling, min-max', () => {
    // C=2, 2×2: alpha = (mean[1,3,0,0], mean[−2,0,0,0]) = (1, −0.5);
    // cam = ReLU(1·[1,2,3,4] − 0.5·[4,2,0,2]) = ReLU([−1,1,3,3]) = [0,1,3,3].
    const A = [1, 2, 3, 4, 4, 2, 0, 2];
    const dA = [1, 3, 0, 0, -2, 0, 0, 0];
    const r = gradCamRef(A, dA, { N: 1, C: 2, h: 2, w: 2, H: 4, W: 4 });
    expectClose(r.alpha, [1, -0.5], { rtol: 1e-15, atol: 0 }, 'alpha');
    expectClose(r.cam, [0, 1, 3, 3], { rtol: 1e-15, atol: 0 }, 'cam');
    // Rows of the 2×2 → 4×4 table with rows [0,1] and [3,3], then divided by max − min = 3.
    const up = [0, 0.25, 0.75, 1, 0.75, 0.9375, 1.3125, 1.5, 2.25, 2.3125, 2.4375, 2.5, 3, 3, 3, 3];
    expectClose(r.up, up, { rtol: 1e-15, atol: 0 }, 'up');
    expectClose(r.z, up.map((v) => v / 3), { rtol: 1e-15, atol: 0 }, 'z');
    expect(Array.from(r.valid)).toEqual([1]);
    expectClose(r.range, [0, 3], { rtol: 0, atol: 0 }, 'range');
  });

  it('min-max: a constant map gives zeros and valid 0', () => {
    const r = minMaxNormRef([0, 0, 0, 0, 2, 2, 2, 2, 1, 2, 3, 5], 3, 4);
    expect(Array.from(r.valid)).toEqual([0, 0, 1]);
    expectClose(r.z, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.5, 1], { rtol: 0, atol: 0 }, 'z');
  });

  it('GradCAM matches PyTorch (float64) on the committed fixture, incl. an all-zero CAM', () => {
    const g = torchFixture.gradcam;
    const r = gradCamRef(g.A, g.dA, g);
    const tol = { rtol: 1e-12, atol: 1e-14 };
    expectClose(r.alpha, g.alpha, tol, 'alpha');
    expectClose(r.cam, g.cam, tol, 'cam');
    expectClose(r.up, g.up, tol, 'up');
    expectClose(r.z, g.z, tol, 'z');
    expect(Array.from(r.valid)).toEqual(g.valid);
    expect(g.valid).toEqual([1, 0]);
  });
});

/**
 * Per-image bound on |z_gpu − z_ref|, from f32 rounding (u = 2^-24) at each stage:
 *   alpha: an hw-term sum → |Δalpha_c| ≤ hw·u·mean|dA_c|;
 *   cam: a C-term fma chain plus alpha's error → ≤ (C + hw + 2)·u·S, where
 *        S = max_q Σ_c (|alpha_c| + mean|dA_c|)·|A_cq| bounds every partial sum;
 *   bilinear: 4 taps (≤ 6u·S) and the f32 source coordinate (|Δsrc| ≤ 2u·max(h,w), times a
 *        neighbour difference ≤ 2S) → ≤ (4·max(h,w) + 6)·u·S;
 *   min-max: errors in up and in min/max divided by R = max − min, plus the division's 3u.
 * So |Δz| ≤ 2·(C + hw + 4·max(h,w) + 8)·u·S/R + 4u: ~1e-6 for these random shapes (S/R is
 * O(1)), while a wrong tap, channel or image offset moves z by O(0.1).
 */
function zBound(A: Float32Array, dA: Float32Array, ref: GradCamRef, d: GradCamDims, n: number): number {
  const hw = d.h * d.w;
  let S = 0;
  for (let q = 0; q < hw; q++) {
    let s = 0;
    for (let c = 0; c < d.C; c++) {
      let mabs = 0;
      for (let k = 0; k < hw; k++) mabs += Math.abs(dA[(n * d.C + c) * hw + k]!);
      s += (Math.abs(ref.alpha[n * d.C + c]!) + mabs / hw) * Math.abs(A[(n * d.C + c) * hw + q]!);
    }
    S = Math.max(S, s);
  }
  const R = ref.range[2 * n + 1]! - ref.range[2 * n]!;
  return (2 * (d.C + hw + 4 * Math.max(d.h, d.w) + 8) * U * S) / R + 4 * U;
}

describe('gradcam (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  interface GpuOut { z: Float32Array; valid: Uint32Array; alpha: Float32Array; cam: Float32Array; range: Float32Array }

  async function runGpu(A: Float32Array, dA: Float32Array, d: GradCamDims): Promise<GpuOut> {
    const { N, C, h, w, H, W } = d;
    const bA = rt.upload(A, 'test.A');
    const bdA = rt.upload(dA, 'test.dA');
    const z = rt.allocF32(N * H * W, 'test.z');
    const valid = rt.allocF32(N, 'test.valid');
    const alpha = rt.allocF32(N * C, 'test.alpha');
    const cam = rt.allocF32(N * h * w, 'test.cam');
    const range = rt.allocF32(2 * N, 'test.range');
    gradCam(rt, bA, bdA, z, valid, d, { alpha, cam, range });
    const out = {
      z: await rt.readF32(z, N * H * W),
      valid: await rt.readU32(valid, N),
      alpha: await rt.readF32(alpha, N * C),
      cam: await rt.readF32(cam, N * h * w),
      range: await rt.readF32(range, 2 * N),
    };
    for (const b of [bA, bdA, z, valid, alpha, cam, range]) rt.release(b);
    return out;
  }

  function check(got: GpuOut, A: Float32Array, dA: Float32Array, d: GradCamDims): GradCamRef {
    const ref = gradCamRef(A, dA, d);
    const P = d.H * d.W;
    const hw = d.h * d.w;
    // alpha and cam are short f32 sums (≤ 28 and 5 terms): 1e-5 relative to the magnitudes
    // summed (atol 1e-6 for O(1) data) is 10× their worst case.
    expectClose(got.alpha, ref.alpha, { rtol: 1e-5, atol: 1e-6 }, 'alpha');
    expectClose(got.cam, ref.cam, { rtol: 1e-5, atol: 1e-6 }, 'cam');
    expect(Array.from(got.valid), 'valid').toEqual(Array.from(ref.valid));
    for (let n = 0; n < d.N; n++) {
      const zg = got.z.subarray(n * P, (n + 1) * P);
      const zr = ref.z.subarray(n * P, (n + 1) * P);
      if (ref.valid[n] === 0) {
        expect(zg.every((v) => v === 0), `z of invalid image ${n} is all zero`).toBe(true);
        continue;
      }
      expectClose(zg, zr, { rtol: 0, atol: zBound(A, dA, ref, d, n) }, `z[image ${n}] (worst-case bound)`);
      // The bound is worst case (2e-5…1e-4 here); rounding errors do not all share a sign, and
      // the observed error is ≤ 3.5e-7 (≈ 6 ulp of 1) on both software drivers: 2e-6 keeps a
      // 6× margin and is the "~1e-6" an f32 bilinear + min-max pipeline should reach.
      expectClose(zg, zr, { rtol: 0, atol: 2e-6 }, `z[image ${n}]`);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of zg) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect([lo, hi], 'normalised range').toEqual([0, 1]);
      const camMax = Math.max(...ref.cam.subarray(n * hw, (n + 1) * hw));
      expectClose(got.range.subarray(2 * n, 2 * n + 2), ref.range.subarray(2 * n, 2 * n + 2), { rtol: 0, atol: 1e-5 * camMax }, 'range');
    }
    return ref;
  }

  /** Random A, dA with image `dead` (if any) given α < 0 and A ≥ 0, so ReLU zeroes its CAM. */
  function data(d: GradCamDims, seed: number, dead = -1): [Float32Array, Float32Array] {
    const n = d.N * d.C * d.h * d.w;
    const A = uniform(n, seed, -1, 1);
    const dA = uniform(n, seed + 1, -1, 1);
    if (dead >= 0) {
      const m = d.C * d.h * d.w;
      for (let i = dead * m; i < (dead + 1) * m; i++) {
        A[i] = Math.abs(A[i]!);
        dA[i] = -Math.abs(dA[i]!) - 0.01;
      }
    }
    return [A, dA];
  }

  const cases: [string, GradCamDims, number][] = [
    ['N=1, 3×3 → 17×17 (scalar paths)', { N: 1, C: 5, h: 3, w: 3, H: 17, W: 17 }, -1],
    ['N=3, 4×7 → 17×17 (vec4 paths), image 1 all zero after ReLU', { N: 3, C: 5, h: 4, w: 7, H: 17, W: 17 }, 1],
    ['N=3, 3×3 → 112×112', { N: 3, C: 5, h: 3, w: 3, H: 112, W: 112 }, -1],
  ];
  for (const [name, d, dead] of cases) {
    it(name, async () => {
      const [A, dA] = data(d, d.N * 100 + d.h * 10 + d.H, dead);
      const got = await runGpu(A, dA, d);
      const ref = check(got, A, dA, d);
      if (dead >= 0) {
        expect(got.valid[dead]).toBe(0);
        expect(Array.from(ref.cam.subarray(dead * d.h * d.w, (dead + 1) * d.h * d.w)).every((v) => v === 0)).toBe(true);
      }
    });
  }

  it('matches PyTorch GradCAM on the committed fixture (incl. the all-zero CAM)', async () => {
    const g = torchFixture.gradcam;
    const A = Float32Array.from(g.A);
    const dA = Float32Array.from(g.dA);
    const got = await runGpu(A, dA, g);
    const ref = check(got, A, dA, g);
    expect(Array.from(got.valid)).toEqual(g.valid);
    const P = g.H * g.W;
    expectClose(got.z.subarray(0, P), g.z.slice(0, P), { rtol: 0, atol: zBound(A, dA, ref, g, 0) }, 'z vs torch');
  });

  it('upsampling matches torch F.interpolate (float32) on every fixture case', async () => {
    // With C = 1, dA = 1 (alpha = 1) and A = x ≥ 0, GradCAM's map is x itself, and the
    // upsampled map comes back as min + z·(max − min). torch's f32 result differs from the
    // exact one by a few ulp; ours by ~(4·max(h,w) + 6)·u·max|x| (see zBound) plus the
    // reconstruction's 3u·max: 1e-5·max|x| covers both. The 1×1 input is constant, so it
    // exercises the invalid path: z = 0 and min = the value itself.
    for (const c of torchFixture.bilinear) {
      const d = { N: c.N, C: 1, h: c.h, w: c.w, H: c.H, W: c.W };
      const x = Float32Array.from(c.x);
      const got = await runGpu(x, new Float32Array(x.length).fill(1), d);
      const P = c.H * c.W;
      const up = Array.from(got.z, (v, i) => {
        const n = Math.floor(i / P);
        return got.range[2 * n]! + v * (got.range[2 * n + 1]! - got.range[2 * n]!);
      });
      const xmax = Math.max(...c.x);
      expectClose(up, c.y_f32, { rtol: 0, atol: 1e-5 * xmax }, `${c.h}x${c.w}→${c.H}x${c.W}`);
      expect(Array.from(got.valid)).toEqual(Array(c.N).fill(c.h * c.w === 1 ? 0 : 1));
    }
  });

  it('minRange marks low-contrast maps invalid', async () => {
    // Image 0's upsampled CAM spans ~1e-3 (A·alpha ≈ 0.5 ± 5e-4); with minRange 1e-2 it is
    // invalid, with the default (the smallest normal f32) it is normalised to the full [0,1].
    const d = { N: 2, C: 1, h: 2, w: 2, H: 5, W: 5 };
    const A = Float32Array.from([0.5, 0.5005, 0.4995, 0.5, 0, 1, 2, 3]);
    const dA = new Float32Array(8).fill(1);
    const bA = rt.upload(A);
    const bdA = rt.upload(dA);
    const z = rt.allocF32(2 * 25);
    const valid = rt.allocF32(2);
    gradCam(rt, bA, bdA, z, valid, d, { minRange: 1e-2 });
    expect(Array.from(await rt.readU32(valid, 2))).toEqual([0, 1]);
    gradCam(rt, bA, bdA, z, valid, d);
    expect(Array.from(await rt.readU32(valid, 2))).toEqual([1, 1]);
    expect(GRADCAM_MIN_RANGE).toBe(F32_MIN_NORMAL);
    for (const b of [bA, bdA, z, valid]) rt.release(b);
  });

  it('rejects bad dims, short buffers and aliasing with errors naming the op and shapes', () => {
    const a = rt.allocF32(5 * 9);
    const z = rt.allocF32(17 * 17);
    const v = rt.allocF32(1);
    const d = { N: 1, C: 5, h: 3, w: 3, H: 17, W: 17 };
    expect(() => gradCam(rt, a, a, z, v, { ...d, C: 0 })).toThrow(/gradcam: C must be a positive integer/);
    expect(() => gradCam(rt, a, a, z, v, { ...d, C: 6 })).toThrow(/gradcam: A holds 45 floats but \[N,C,h,w\] = \[1,6,3,3\] needs 54/);
    expect(() => gradCam(rt, a, a, z, v, { ...d, H: 18 })).toThrow(/gradcam: z holds 289 floats but \[N,H,W\] = \[1,18,17\] needs 306/);
    expect(() => gradCam(rt, a, a, z, z, d)).toThrow(/gradcam: valid and z must be different buffers/);
    expect(() => gradCam(rt, a, a, z, v, d, { minRange: -1 })).toThrow(/gradcam: minRange/);
    for (const b of [a, z, v]) rt.release(b);
  });
});
