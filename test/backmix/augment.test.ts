// GPU augmentation (shaders/augment.wgsl + augment_zscore.wgsl) against the float64 reference
// and exact geometric identities.
//
// Tolerances: the rotation, flip and LUT are integer arithmetic on both sides (OpenCV's
// fixed-point warp is reproduced bit for bit), so the un-normalised outputs must agree to f32
// rounding of v/255 (< 6e-8; we allow 1e-6). After the z-score the GPU's f32 mean and variance
// over n = 289 pixels carry a relative error ~ n·2^-24 ≈ 2e-5 at worst, on values |z| ≲ 5,
// so atol 1e-4 (+ rtol 1e-4) is safe, while a single pixel off by one grey level moves z by
// 1/(255·σ) ≳ 0.01 and would fail.
import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { createAugmenter } from '../../src/backmix/augment.js';
import { feistelHalfBits } from '../../src/backmix/augment.js';
import { GpuDataset } from '../../src/backmix/gpu_dataset.js';
import type { BatchParams, SampleParams } from '../../src/backmix/augment_params.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { refAugmentBatch, refZscore, bicubicFloat, refRotateCubicU8 } from '../reference/augment.js';
import { S, echoDataset, makeDataset, smoothFrame, sectorMask, maxAbsDiff } from './fixtures.js';
import { perImage, refSamples } from './ref_adapter.js';

const RAW = { rtol: 0, atol: 1e-6 };
const Z = { rtol: 1e-4, atol: 1e-4 };
const n = S * S;

const sp = (index: number, angle: number, flip = false, alpha = 1, beta = 0): SampleParams => ({
  index, angle, flip, alpha, beta, masked: false, donor: -1, key: 0,
});

describe('augment (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  for (const shape of ['pixel', 'column'] as const) {
  it(`matches the reference for random rotations, flips and intensities (raw and z-scored; ${shape} launch)`, async () => {
    process.env.WGML_AUGMENT_SHAPE = shape;
    const ds = echoDataset(6);
    const params: BatchParams = {
      samples: [
        sp(0, 17.3, false, 1.1, 0.05),
        sp(1, -29.9, true, 0.86, -0.14),
        sp(2, 0.01, true, 1.149, 0.149),
        sp(3, -7.5, false, 0.9, 0.0),
        sp(4, 23.25, true, 1.0, -0.07),
        sp(2, 3.3, false, 1.02, 0.11),
      ],
    };
    for (const zscore of [false, true]) {
      const aug = createAugmenter(rt, ds, { method: 'none', zscore });
      const out = aug.augmentWithParams(params, { mask: true });
      const x = await rt.readF32(out.x, 6 * n);
      const m = await rt.readF32(out.mask!, 6 * n);
      const ref = refAugmentBatch(refSamples(ds, params), S, 'none', { zscore });
      perImage(x, 6).forEach((img, b) => expectClose(img, ref.x[b]!, zscore ? Z : RAW, `x[${b}] zscore=${zscore}`));
      perImage(m, 6).forEach((img, b) => expect(Array.from(img), `mask[${b}]`).toEqual(Array.from(ref.mask[b]!)));
      rt.release(out.x);
      rt.release(out.mask!);
      aug.dispose();
    }
    delete process.env.WGML_AUGMENT_SHAPE;
  });
  }

  it('rotation by 0 is the identity, by 90° an exact array rotation, and flipping a mirrored frame restores it', async () => {
    const f = smoothFrame(S, 3).map((v, q) => (q % 5 === 0 ? 255 - v : v)); // with fine structure
    const mirrored = f.map((_, q) => f[Math.floor(q / S) * S + (S - 1 - (q % S))]!);
    const ds = makeDataset([{ frame: f, mask: null }, { frame: mirrored, mask: null }]);
    const aug = createAugmenter(rt, ds, { method: 'none', zscore: false });
    const out = aug.augmentWithParams({ samples: [sp(0, 0), sp(0, 90), sp(1, 0, true), sp(0, -90)] });
    const [id, r90, unflip, rm90] = perImage(await rt.readF32(out.x, 4 * n), 4);
    const want = Float64Array.from(f, (v) => v / 255);
    expectClose(id!, want, RAW, 'rotate 0');
    expectClose(unflip!, want, RAW, 'flip of mirror');
    // +90° turns the picture counter-clockwise (OpenCV's sign): out[y][x] = in[x][S−1−y] (np.rot90).
    const rot = Float64Array.from({ length: n }, (_, q) => f[(q % S) * S + (S - 1 - Math.floor(q / S))]! / 255);
    expectClose(r90!, rot, RAW, 'rotate +90');
    const rotm = Float64Array.from({ length: n }, (_, q) => f[(S - 1 - (q % S)) * S + Math.floor(q / S)]! / 255);
    expectClose(rm90!, rotm, RAW, 'rotate −90');
    rt.release(out.x);
    aug.dispose();
  });

  it('OpenCV fixed-point bicubic stays within one grey level of exact float64 bicubic on a smooth frame', async () => {
    // Rounding to u8 costs ≤ 0.5; 1/32-px coordinates and 2^-15 weights add ≲ 0.3 on this
    // frame (gradients < 20 levels/px), so ≤ 1 level everywhere.
    const f = smoothFrame(S, 9);
    const ds = makeDataset([{ frame: f, mask: null }]);
    const aug = createAugmenter(rt, ds, { method: 'none', zscore: false });
    for (const angle of [13.7, -28.2]) {
      const out = aug.augmentWithParams({ samples: [sp(0, angle)] });
      const got = Float64Array.from(await rt.readF32(out.x, n), (v) => v * 255);
      expect(maxAbsDiff(got, bicubicFloat(f, S, angle)), `angle ${angle}`).toBeLessThanOrEqual(1);
      expect(maxAbsDiff(got, refRotateCubicU8(f, S, angle))).toBeLessThan(1e-3);
      rt.release(out.x);
    }
    aug.dispose();
  });

  it('z-scores each image to mean 0 and std 1, and a constant image to zeros (no NaN)', async () => {
    const ds = makeDataset([
      { frame: smoothFrame(S, 1), mask: null },
      { frame: new Uint8Array(n).fill(77), mask: null },
      { frame: Uint8Array.from({ length: n }, (_, q) => (q * 37) % 256), mask: null },
    ]);
    const aug = createAugmenter(rt, ds, { method: 'none', seed: 4 });
    const out = aug.augmentBatch([0, 1, 2, 0]);
    const imgs = perImage(await rt.readF32(out.x, 4 * n), 4);
    for (const b of [0, 2, 3]) {
      const img = imgs[b]!;
      const mean = img.reduce((a, v) => a + v, 0) / n;
      const sd = Math.sqrt(img.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
      expect(Math.abs(mean), `mean[${b}]`).toBeLessThan(1e-5);
      expect(Math.abs(sd - 1), `std[${b}]`).toBeLessThan(1e-4);
    }
    expect(Array.from(imgs[1]!).every((v) => v === 0)).toBe(true);
    rt.release(out.x);
    aug.dispose();
  });

  for (const shape of ['pixel', 'column'] as const) {
  it(`preprocess is z-score(frame/255) with the mask passed through (${shape} launch)`, async () => {
    process.env.WGML_AUGMENT_SHAPE = shape;
    const ds = echoDataset(5);
    const data = new GpuDataset(rt, ds);
    delete process.env.WGML_AUGMENT_SHAPE;
    const idx = [4, 0, 2];
    const out = data.preprocess(idx, { mask: true });
    const x = perImage(await rt.readF32(out.x, 3 * n), 3);
    const m = perImage(await rt.readF32(out.mask!, 3 * n), 3);
    idx.forEach((i, b) => {
      const frame = ds.frames.subarray(i * n, (i + 1) * n);
      expectClose(x[b]!, refZscore(Float64Array.from(frame, (v) => v / 255)), Z, `x[${b}]`);
      expect(Array.from(m[b]!)).toEqual(Array.from(ds.masks!.subarray(i * n, (i + 1) * n)));
    });
    expect(Array.from(out.labels)).toEqual(idx.map((i) => ds.samples[i]!.label));
    rt.release(out.x);
    rt.release(out.mask!);
    data.dispose();
  });
  }

  it('is reproducible by seed, resumes from saved RNG state, and gathers across resident chunks', async () => {
    const ds = echoDataset(9);
    const idx = [8, 1, 4, 4, 0, 7];
    const run = async (seed: number, chunkBytes?: number) => {
      const aug = createAugmenter(rt, ds, { method: 'backmix', fraction: 0.5, seed, ...(chunkBytes ? { chunkBytes } : {}) });
      const a = aug.augmentBatch(idx);
      const saved = aug.getRngState();
      const b = aug.augmentBatch(idx);
      const bytesA = new Uint8Array((await rt.readF32(a.x, idx.length * n)).buffer);
      const bytesB = new Uint8Array((await rt.readF32(b.x, idx.length * n)).buffer);
      rt.release(a.x);
      rt.release(b.x);
      aug.dispose();
      return { bytesA, bytesB, saved };
    };
    const r1 = await run(7);
    const r2 = await run(7, 3 * Math.ceil(n / 4) * 4); // 3 frames per chunk
    const r3 = await run(8);
    expect(Buffer.from(r2.bytesA).equals(Buffer.from(r1.bytesA))).toBe(true);
    expect(Buffer.from(r2.bytesB).equals(Buffer.from(r1.bytesB))).toBe(true);
    expect(Buffer.from(r3.bytesA).equals(Buffer.from(r1.bytesA))).toBe(false);
    expect(Buffer.from(r1.bytesB).equals(Buffer.from(r1.bytesA))).toBe(false);

    const aug = createAugmenter(rt, ds, { method: 'backmix', fraction: 0.5, seed: 12345 });
    aug.setRngState(r1.saved);
    const b = aug.augmentBatch(idx);
    const bytes = new Uint8Array((await rt.readF32(b.x, idx.length * n)).buffer);
    expect(Buffer.from(bytes).equals(Buffer.from(r1.bytesB))).toBe(true);
    rt.release(b.x);
    aug.dispose();
  });

  it('keeps GPU memory flat over many batches once the pool is warm', async () => {
    const ds = echoDataset(6);
    const aug = createAugmenter(rt, ds, { method: 'backmix', fraction: 0.5, seed: 1 });
    const step = async () => {
      const out = aug.augmentBatch([0, 1, 2, 3, 4, 5], { mask: true });
      await rt.readF32(out.x, 1); // the step's one readback
      rt.release(out.x);
      rt.release(out.mask!);
    };
    await step();
    await step();
    const before = rt.pool.stats();
    for (let k = 0; k < 8; k++) await step();
    const after = rt.pool.stats();
    expect(after.bytesAllocated).toBe(before.bytesAllocated);
    expect(after.buffersCreated).toBe(before.buffersCreated);
    aug.dispose();
  });

  it('shares a GpuDataset: the same batches as an augmenter that uploads its own copy, and the dataset outlives it', async () => {
    const ds = echoDataset(6);
    const data = new GpuDataset(rt, ds);
    const shared = createAugmenter(rt, data, { method: 'backmix', fraction: 0.5, seed: 3 });
    const owned = createAugmenter(rt, ds, { method: 'backmix', fraction: 0.5, seed: 3 });
    const idx = [5, 0, 3, 3];
    const read = async (x: ReturnType<typeof shared.augmentBatch>['x']) => {
      const bytes = Buffer.from((await rt.readF32(x, idx.length * n)).buffer);
      rt.release(x);
      return bytes;
    };
    expect((await read(shared.augmentBatch(idx).x)).equals(await read(owned.augmentBatch(idx).x))).toBe(true);
    expect(shared.data).toBe(data);
    shared.dispose();
    owned.dispose();
    const pre = data.preprocess([1]);
    const x = await rt.readF32(pre.x, n);
    expectClose(x, refZscore(Float64Array.from(ds.frames.subarray(n, 2 * n), (v) => v / 255)), Z, 'x after the augmenter is gone');
    rt.release(pre.x);
    data.dispose();
    expect(() => data.preprocess([0])).toThrow(/dispose/);
  });

  it('validates its inputs', () => {
    const ds = echoDataset(3);
    expect(() => createAugmenter(rt, ds, { imageSize: 112 })).toThrow(/imageSize 112/);
    const aug = createAugmenter(rt, ds, { method: 'none' });
    expect(() => aug.augmentBatch([0, 3])).toThrow(/outside 0..2/);
    expect(() => aug.augmentBatch([])).toThrow(/empty/);
    aug.dispose();
    expect(() => aug.augmentBatch([0])).toThrow(/dispose/);
    const noMasks = makeDataset([{ frame: sectorMask(S), mask: null }]);
    expect(() => createAugmenter(rt, noMasks, { method: 'backmix' })).toThrow(/no sample that has a mask/);
    expect(feistelHalfBits(289)).toBe(5);
    expect(feistelHalfBits(112 * 112)).toBe(7);
  });
});
