// Background methods on the GPU: each against the float64 reference and its defining property.
// Raw outputs (zscore: false) are compared to 1e-6 (integer pipeline, f32 v/255) except where
// f32 arithmetic enters: bokeh (one f32 multiply, same on both sides) and bokeh-blur (sums of
// ≤ 19² f32 terms in [0,1]: error ≲ 400·2^-24 ≈ 3e-5, so atol 1e-4).
import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { createAugmenter, feistelHalfBits, noiseField, type AugmenterOptions } from '../../src/backmix/augment.js';
import type { BatchParams, SampleParams } from '../../src/backmix/augment_params.js';
import type { Method } from '../../src/backmix/methods.js';
import type { Dataset } from '../../src/data/dataset.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { refAugmentBatch, refAugmentOne, refWalk, type RefOptions } from '../reference/augment.js';
import { S, echoDataset, echoFrame, makeDataset, sectorMask } from './fixtures.js';
import { perImage, refSamples } from './ref_adapter.js';

const n = S * S;
const RAW = { rtol: 0, atol: 1e-6 };
const Z = { rtol: 1e-4, atol: 1e-4 };

describe('background methods (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  /** Runs a batch with given params; returns raw images, masks, and the reference's. */
  async function run(ds: Dataset, method: Method, params: BatchParams, opts: AugmenterOptions = {}, ro: RefOptions = {}) {
    const aug = createAugmenter(rt, ds, { method, zscore: false, ...opts });
    const B = params.samples.length;
    const out = aug.augmentWithParams(params, { mask: true });
    const x = perImage(await rt.readF32(out.x, B * n), B);
    const m = perImage(await rt.readF32(out.mask!, B * n), B);
    rt.release(out.x);
    rt.release(out.mask!);
    const ref = refAugmentBatch(refSamples(ds, params), S, method, {
      halfBits: feistelHalfBits(n),
      zscore: opts.zscore ?? false,
      ...(method === 'noise' ? { noise: noiseField(opts.seed ?? 0, S) } : {}),
      ...(params.cutmix ? { cutmix: params.cutmix } : {}),
      ...(opts.blurSigma ? { sigma: opts.blurSigma } : {}),
      ...ro,
    });
    aug.dispose();
    return { x, m, ref, out };
  }

  const p = (index: number, angle: number, flip: boolean, masked: boolean, extra: Partial<SampleParams> = {}): SampleParams => ({
    index, angle, flip, alpha: 1.07, beta: -0.04, masked, donor: -1, key: 0, ...extra,
  });

  it('backmix: source sector over the donor background with the donor sector black', async () => {
    const ds = echoDataset(5);
    const params: BatchParams = {
      samples: [
        p(0, 12.5, true, true, { donor: 3 }),
        p(1, -20, false, true, { donor: 1 }), // j = i keeps its own (un-augmented) background
        p(2, 5, false, false), // outside the subset: plain augmentation
        p(4, 28, true, true, { donor: 0 }),
      ],
    };
    const { x, m, ref } = await run(ds, 'backmix', params);
    x.forEach((img, b) => expectClose(img, ref.x[b]!, RAW, `x[${b}]`));
    m.forEach((img, b) => expect(Array.from(img)).toEqual(Array.from(ref.mask[b]!)));
    // Defining property, sample 0: background pixels are donor·(1 − m_donor), sector pixels the augmented source.
    const donor = ds.frames.subarray(3 * n, 4 * n);
    const dmask = ds.masks!.subarray(3 * n, 4 * n);
    const src = refAugmentOne(refSamples(ds, params)[0]!, S);
    for (let q = 0; q < n; q++) {
      const want = m[0]![q] ? src.frame[q]! : dmask[q] ? 0 : donor[q]!;
      expect(Math.round(x[0]![q]! * 255)).toBe(want);
    }
    // z-scored too.
    const z = await run(ds, 'backmix', params, { zscore: true });
    z.x.forEach((img, b) => expectClose(img, z.ref.x[b]!, Z, `z[${b}]`));
  });

  it('backmix: an all-ones mask leaves the augmented source; an all-zeros mask gives the donor background', async () => {
    const ones = new Uint8Array(n).fill(1);
    const zeros = new Uint8Array(n);
    const donorMask = sectorMask(S);
    const ds = makeDataset([
      { frame: echoFrame(S, 1), mask: ones },
      { frame: echoFrame(S, 2), mask: zeros },
      { frame: echoFrame(S, 3), mask: donorMask },
    ]);
    const params: BatchParams = { samples: [p(0, 21, true, true, { donor: 2 }), p(1, -13, false, true, { donor: 2 })] };
    const { x, ref } = await run(ds, 'backmix', params, { zscore: true });
    const plain = await run(ds, 'none', { samples: params.samples.map((s) => ({ ...s, masked: false, donor: -1 })) }, { zscore: true });
    expectClose(x[0]!, plain.x[0]!, { rtol: 0, atol: 0 }, 'all-ones mask = augmented source');
    const donor = ds.frames.subarray(2 * n, 3 * n);
    const bg = Float64Array.from(donor, (v, q) => (donorMask[q] ? 0 : v / 255));
    const mean = bg.reduce((a, v) => a + v, 0) / n;
    const sd = Math.sqrt(bg.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
    expectClose(x[1]!, bg.map((v) => (v - mean) / sd), Z, 'all-zeros mask = donor background');
    expectClose(x[1]!, ref.x[1]!, Z, 'reference');
  });

  it('backmix: donors come only from the masked subset (augmentBatch over many batches)', () => {
    const ds = echoDataset(40);
    const aug = createAugmenter(rt, ds, { method: 'backmix', fraction: 0.1, seed: 3 });
    expect(aug.subset.indices).toEqual([0, 10, 20, 30]);
    const seen = new Set<number>();
    for (let k = 0; k < 100; k++) {
      const params = aug.drawParams(Array.from({ length: 40 }, (_, i) => i));
      for (const s of params.samples) {
        expect(s.masked).toBe(s.index % 10 === 0);
        if (s.masked) {
          expect(aug.subset.member[s.donor]).toBe(1);
          seen.add(s.donor);
        } else {
          expect(s.donor).toBe(-1);
        }
      }
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 10, 20, 30]);
    aug.dispose();
  });

  it('black, bokeh: background 0 and 0.74·background; sector and unmasked samples untouched', async () => {
    const ds = echoDataset(3);
    const params: BatchParams = { samples: [p(0, 9, false, true), p(1, -15, true, true), p(2, 4, false, false)] };
    const plain = await run(ds, 'none', { samples: params.samples.map((s) => ({ ...s, masked: false })) });
    for (const method of ['black', 'bokeh'] as const) {
      const { x, m, ref } = await run(ds, method, params);
      x.forEach((img, b) => expectClose(img, ref.x[b]!, RAW, `${method} x[${b}]`));
      for (let b = 0; b < 3; b++) {
        for (let q = 0; q < n; q++) {
          const base = plain.x[b]![q]!;
          const want = !params.samples[b]!.masked || m[b]![q] ? base : method === 'black' ? 0 : Math.fround(Math.round(base * 255) * Math.fround(0.74)) / 255;
          expect(Math.abs(x[b]![q]! - want), `${method} b=${b} q=${q}`).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('noise: each background pixel holds a distinct entry of the fixed U(0,30) field, fresh per key', async () => {
    const ds = echoDataset(2);
    const params: BatchParams = { samples: [p(0, 3, false, true, { key: 0x1234567 }), p(1, -8, true, true, { key: 0xdeadbeef }), p(0, 3, false, true, { key: 99 })] };
    const { x, m, ref } = await run(ds, 'noise', params, { seed: 5 });
    x.forEach((img, b) => expectClose(img, ref.x[b]!, RAW, `x[${b}]`));
    const field = noiseField(5, S);
    expect(Math.max(...field)).toBeLessThan(30);
    expect(Math.min(...field)).toBeGreaterThanOrEqual(0);
    const h = feistelHalfBits(n);
    for (let b = 0; b < 3; b++) {
      const used = new Set<number>();
      for (let q = 0; q < n; q++) {
        if (m[b]![q]) continue;
        const t = refWalk(q, params.samples[b]!.key, h, (v) => v < n);
        expect(used.has(t)).toBe(false); // a permutation: no field entry used twice
        used.add(t);
        expect(Math.abs(x[b]![q]! - Math.min(255, field[t]!) / 255)).toBeLessThan(1e-6);
      }
    }
    // Same frame and geometry, different key: different noise placement.
    const bg = (b: number) => Array.from(x[b]!).filter((_, q) => !m[b]![q]);
    expect(bg(0)).not.toEqual(bg(2));
    expect([...bg(0)].sort()).not.toEqual([...bg(2)].sort()); // draws differ as a set too (subset of the field)
  });

  it('shuffle: background values are a permutation of the augmented background; sector untouched', async () => {
    const ds = echoDataset(2);
    const params: BatchParams = { samples: [p(0, 11, true, true, { key: 77 }), p(1, -25, false, true, { key: 123456 })] };
    const { x, m, ref } = await run(ds, 'shuffle', params);
    x.forEach((img, b) => expectClose(img, ref.x[b]!, RAW, `x[${b}]`));
    const plain = await run(ds, 'none', { samples: params.samples.map((s) => ({ ...s, masked: false })) });
    for (let b = 0; b < 2; b++) {
      const bgGot: number[] = [];
      const bgPlain: number[] = [];
      let moved = 0;
      for (let q = 0; q < n; q++) {
        if (m[b]![q]) {
          expect(x[b]![q]).toBe(plain.x[b]![q]);
        } else {
          bgGot.push(x[b]![q]!);
          bgPlain.push(plain.x[b]![q]!);
          if (x[b]![q] !== plain.x[b]![q]) moved++;
        }
      }
      expect(bgGot.sort()).toEqual(bgPlain.sort());
      expect(moved).toBeGreaterThan(bgGot.length / 2);
    }
  });

  for (const shape of ['pixel', 'column'] as const) {
  it(`bokeh-blur: mask-normalised Gaussian blur of the background (vs a direct 2-D sum; ${shape} launch)`, async () => {
    const ds = echoDataset(2);
    const params: BatchParams = { samples: [p(0, 6, false, true), p(1, -12, true, false)] };
    process.env.WGML_AUGMENT_SHAPE = shape;
    const { x, m, ref } = await run(ds, 'bokeh-blur', params, { blurSigma: 1.5 });
    delete process.env.WGML_AUGMENT_SHAPE;
    x.forEach((img, b) => expectClose(img, ref.x[b]!, { rtol: 1e-4, atol: 1e-4 }, `x[${b}]`));
    const plain = await run(ds, 'none', { samples: params.samples.map((s) => ({ ...s, masked: false })) });
    for (let q = 0; q < n; q++) if (m[0]![q]) expect(x[0]![q]).toBe(plain.x[0]![q]);
    expect(Array.from(x[1]!)).toEqual(Array.from(plain.x[1]!)); // not in the subset
    // Blurring lowers the background's variation.
    const spread = (a: Float32Array) => {
      const bg = Array.from(a).filter((_, q) => !m[0]![q]);
      const mu = bg.reduce((s, v) => s + v, 0) / bg.length;
      return bg.reduce((s, v) => s + (v - mu) ** 2, 0);
    };
    expect(spread(x[0]!)).toBeLessThan(0.7 * spread(plain.x[0]!));
  });
  }

  it('cutmix: the box shows the partner, labels mix by area', async () => {
    const ds = echoDataset(4);
    const params: BatchParams = {
      samples: [p(0, 5, false, false), p(1, -9, true, false), p(2, 14, false, false), p(3, 0, false, false)],
      cutmix: { active: true, box: [3, 5, 12, 16], partner: [2, 0, 1, 3], lam: 1 - (9 * 11) / n },
    };
    const { x, m, ref } = await run(ds, 'cutmix', params);
    x.forEach((img, b) => expectClose(img, ref.x[b]!, RAW, `x[${b}]`));
    m.forEach((img, b) => expect(Array.from(img)).toEqual(Array.from(ref.mask[b]!)));
    const plain = await run(ds, 'none', { samples: params.samples });
    for (let q = 0; q < n; q++) {
      const [xx, yy] = [q % S, Math.floor(q / S)];
      const inBox = xx >= 3 && xx < 12 && yy >= 5 && yy < 16;
      expect(x[0]![q]).toBe(inBox ? plain.x[2]![q] : plain.x[0]![q]);
    }
    const aug = createAugmenter(rt, ds, { method: 'cutmix', numClasses: 4 });
    const out = aug.augmentWithParams(params);
    const soft = out.softTargets!;
    expect(soft.length).toBe(16);
    for (let b = 0; b < 4; b++) {
      const row = Array.from(soft.subarray(b * 4, b * 4 + 4));
      expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
      const own = ds.samples[b]!.label;
      const other = ds.samples[params.cutmix!.partner[b]!]!.label;
      if (own !== other) {
        expect(row[own]).toBeCloseTo(params.cutmix!.lam, 6);
        expect(row[other]).toBeCloseTo(1 - params.cutmix!.lam, 6);
      } else {
        expect(row[own]).toBeCloseTo(1, 6);
      }
    }
    expect(Array.from(out.weights)).toEqual([1, 1, 1, 1]);
    rt.release(out.x);
    aug.dispose();
  });

  it('augmentBatch applies masked methods to subset samples only, with wBackMix weights', async () => {
    const ds = echoDataset(8);
    const aug = createAugmenter(rt, ds, { method: 'black', fraction: 0.5, lambda: 2, seed: 1, zscore: false });
    const idx = [0, 1, 2, 3, 4, 5, 6, 7];
    const out = aug.augmentBatch(idx, { mask: true });
    const x = perImage(await rt.readF32(out.x, 8 * n), 8);
    const m = perImage(await rt.readF32(out.mask!, 8 * n), 8);
    expect(Array.from(out.inSubset)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from(out.weights)).toEqual([2, 0, 2, 0, 2, 0, 2, 0]);
    for (let b = 0; b < 8; b++) {
      const bgBlack = Array.from(x[b]!).every((v, q) => m[b]![q] || v === 0);
      expect(bgBlack, `sample ${b}`).toBe(b % 2 === 0);
    }
    rt.release(out.x);
    rt.release(out.mask!);
    aug.dispose();
  });
});
