// Host-side pieces of the augmentation: RNG, OpenCV tables, masked subset, wBackMix weights,
// donor draws, per-batch parameters. No GPU.
import { describe, it, expect } from 'vitest';
import { AugRng, streamSeed } from '../../src/backmix/rng.js';
import { cubicTable, cvRound, warpRows } from '../../src/backmix/warp_tables.js';
import { selectMaskSubset, strideForFraction } from '../../src/backmix/mask_subset.js';
import { batchWeights, maskedWeight, unmaskedWeight } from '../../src/backmix/weights.js';
import { drawDonor } from '../../src/backmix/donors.js';
import { contrastLut, drawBatchParams, drawCutMix } from '../../src/backmix/augment_params.js';
import { METHODS, parseMethod } from '../../src/backmix/methods.js';
import { refContrast, refCubicTable, refInverseRotation } from '../reference/augment.js';

const samplesOf = (n: number, withMask: (i: number) => boolean = () => true) =>
  Array.from({ length: n }, (_, i) => ({ id: `f${String(i).padStart(5, '0')}`, mask: withMask(i) }));

describe('AugRng', () => {
  it('is deterministic per seed, differs across seeds and streams, and resumes from its state', () => {
    const a = new AugRng(42);
    const b = new AugRng(42);
    const seqA = Array.from({ length: 50 }, () => a.nextU32());
    expect(Array.from({ length: 50 }, () => b.nextU32())).toEqual(seqA);
    const c = new AugRng(43);
    expect(Array.from({ length: 50 }, () => c.nextU32())).not.toEqual(seqA);
    expect(streamSeed(7, 'augment')).not.toBe(streamSeed(7, 'mix'));
    expect(streamSeed(7, 'augment')).not.toBe(streamSeed(8, 'augment'));

    const r = AugRng.forStream(9, 'augment');
    for (let i = 0; i < 17; i++) r.next();
    const saved = JSON.parse(JSON.stringify(r.getState())) as [number, number, number, number];
    const tail = Array.from({ length: 20 }, () => r.nextU32());
    const resumed = new AugRng(0);
    resumed.setState(saved);
    expect(Array.from({ length: 20 }, () => resumed.nextU32())).toEqual(tail);
    expect(() => resumed.setState([0, 0, 0, 0])).toThrow(/all zero/);
  });

  it('int(n) stays in range and is close to uniform', () => {
    const r = new AugRng(5);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400); // ~4σ
    const u = Array.from({ length: 10000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});

describe('OpenCV warp tables', () => {
  it('cvRound rounds half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(cvRound)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });

  it('the fixed-point bicubic table matches an independent implementation and sums to 2^15', () => {
    const tab = cubicTable();
    const ref = refCubicTable();
    expect(tab.length).toBe(1024 * 16);
    for (let k = 0; k < 1024; k++) {
      const w = tab.subarray(k * 16, k * 16 + 16);
      expect(Array.from(w), `position ${k}`).toEqual(Array.from(ref[k]!));
      expect(w.reduce((a, b) => a + b, 0)).toBe(32768);
    }
    // At fractional offset 0 OpenCV saturates the weight 1.0 to 32767 and puts the missing 1 on
    // kernel entry (2,2); (32767·v + v' + 2^14) >> 15 is still exactly v for u8 pixels.
    expect(Array.from(tab.subarray(0, 16))).toEqual([0, 0, 0, 0, 0, 32767, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('warp rows encode the inverse rotation in 1/1024 px', () => {
    const S = 17;
    for (const angle of [0, 90, -23.7, 12.5]) {
      const rows = warpRows(S, angle);
      const A = refInverseRotation(S, angle);
      for (const [x, y] of [[0, 0], [16, 3], [8, 8], [5, 13]] as const) {
        const X = (rows[y]! + rows[2 * S + x]!) / 1024;
        const Y = (rows[S + y]! + rows[3 * S + x]!) / 1024;
        expect(Math.abs(X - (A[0]! * x + A[1]! * y + A[2]!))).toBeLessThan(1.5 / 1024);
        expect(Math.abs(Y - (A[3]! * x + A[4]! * y + A[5]!))).toBeLessThan(1.5 / 1024);
      }
    }
    // Identity at 0°: X = 1024·x exactly.
    const id = warpRows(S, 0);
    for (let t = 0; t < S; t++) {
      expect(id[t]).toBe(0);
      expect(id[2 * S + t]).toBe(1024 * t);
      expect(id[3 * S + t]).toBe(0);
    }
  });

  it('the brightness/contrast LUT is albumentations float32 truncation', () => {
    const r = new AugRng(3);
    for (let k = 0; k < 20; k++) {
      const alpha = 1 + r.uniform(-0.15, 0.15);
      const beta = r.uniform(-0.15, 0.15);
      const lut = contrastLut(alpha, beta);
      for (let v = 0; v < 256; v++) expect(lut[v]).toBe(refContrast(v, alpha, beta));
    }
    expect(Array.from(contrastLut(1, 0))).toEqual(Array.from({ length: 256 }, (_, v) => v));
  });
});

describe('masked subset (semi-supervised fraction f)', () => {
  it('takes every int(1/f)-th sample in sorted id order (f = 1, 0.5, 0.05, 0.33)', () => {
    const N = 100;
    const samples = samplesOf(N);
    for (const [f, stride, size] of [[1, 1, 100], [0.5, 2, 50], [0.05, 20, 5], [0.33, 3, 34]] as const) {
      const s = selectMaskSubset(samples, { fraction: f });
      expect(strideForFraction(f)).toBe(stride);
      expect(s.stride).toBe(stride);
      expect(s.indices.length, `f=${f}`).toBe(size);
      expect(s.indices.every((i) => i % stride === 0)).toBe(true);
      expect(s.member.reduce((a, b) => a + b, 0)).toBe(size);
    }
    expect(selectMaskSubset(samples, { fraction: 0 }).indices).toEqual([]);
    // The reference truncates int(1/f): f = 0.4 gives every 2nd sample, f = 0.6 every sample.
    expect(strideForFraction(0.4)).toBe(2);
    expect(strideForFraction(0.6)).toBe(1);
  });

  it('orders by sample id, not dataset order, and restricts to the pool', () => {
    // Dataset order reversed relative to ids: rank r is dataset index N−1−r.
    const N = 30;
    const samples = samplesOf(N).reverse();
    const s = selectMaskSubset(samples, { fraction: 0.2 });
    expect(s.indices).toEqual([29, 24, 19, 14, 9, 4]);
    const pool = Array.from({ length: 10 }, (_, k) => 20 + k); // ids f00000..f00009
    const sp = selectMaskSubset(samples, { fraction: 0.5, pool });
    expect(sp.indices).toEqual([29, 27, 25, 23, 21]);
    expect(sp.poolSize).toBe(10);
  });

  it('leaves picked samples without a mask out and lists them', () => {
    const samples = samplesOf(40, (i) => i % 8 !== 0);
    const s = selectMaskSubset(samples, { fraction: 0.25 });
    expect(s.indices).toEqual([4, 12, 20, 28, 36]);
    expect(s.missing).toEqual([0, 8, 16, 24, 32]);
  });

  it('offsets 0..int(1/f)−1 give disjoint subsets of one size that cover the pool (the ablation); others are refused', () => {
    const samples = samplesOf(100);
    const subsets = [0, 1, 2, 3, 4].map((offset) => selectMaskSubset(samples, { fraction: 0.2, offset }).indices);
    expect(subsets.map((s) => s.length)).toEqual([20, 20, 20, 20, 20]);
    expect(subsets[3]!.slice(0, 3)).toEqual([3, 8, 13]);
    expect(new Set(subsets.flat()).size).toBe(100);
    expect(() => selectMaskSubset(samples, { fraction: 0.2, offset: 5 })).toThrow(/offset must be an integer in 0..4/);
    expect(() => selectMaskSubset(samples, { fraction: 0.2, offset: 1, mode: 'random' })).toThrow(/stride mode only/);
  });

  it('random mode draws round(f·N) masked samples, fixed by the seed', () => {
    const samples = samplesOf(200, (i) => i !== 3);
    const a = selectMaskSubset(samples, { fraction: 0.1, mode: 'random', seed: 1 });
    const b = selectMaskSubset(samples, { fraction: 0.1, mode: 'random', seed: 1 });
    const c = selectMaskSubset(samples, { fraction: 0.1, mode: 'random', seed: 2 });
    expect(a.indices.length).toBe(20);
    expect(new Set(a.indices).size).toBe(20);
    expect(a.indices).toEqual(b.indices);
    expect(a.indices).not.toEqual(c.indices);
    expect(a.indices).not.toContain(3);
    expect(a.indices).toEqual([...a.indices].sort((x, y) => x - y)); // ids sort like indices here
  });
});

describe('wBackMix weights', () => {
  it('are 1 − λf outside and 1 + λ(1 − f) inside the subset', () => {
    expect(unmaskedWeight(0.05, 2)).toBeCloseTo(0.9, 12);
    expect(maskedWeight(0.05, 2)).toBeCloseTo(2.9, 12);
    const member = Uint8Array.from([1, 0, 0, 1]);
    const w = batchWeights([0, 1, 2, 3, 0], member, 0.5, 1);
    expect(Array.from(w)).toEqual([1.5, 0.5, 0.5, 1.5, 1.5]);
    expect(Array.from(batchWeights([0, 1], member, 0.5, 1, false))).toEqual([1, 1]);
    expect(Array.from(batchWeights([0, 1], member, 0.5, 0))).toEqual([1, 1]);
    expect(() => batchWeights([0], member, 0.5, -1)).toThrow(/lambda/);
  });

  it('average to 1 over the dataset when the subset holds exactly f·N samples', () => {
    const N = 200;
    for (const f of [1, 0.5, 0.05, 0.1]) {
      const s = selectMaskSubset(samplesOf(N), { fraction: f });
      expect(s.indices.length).toBe(f * N);
      for (const lambda of [0, 1, 2, 3.7]) {
        const w = batchWeights(Array.from({ length: N }, (_, i) => i), s.member, f, lambda);
        const mean = w.reduce((a, b) => a + b, 0) / N;
        expect(Math.abs(mean - 1), `f=${f} λ=${lambda}`).toBeLessThan(1e-6);
      }
    }
  });
});

describe('donors and batch parameters', () => {
  it('draws donors only from the subset, each member about equally often', () => {
    const s = selectMaskSubset(samplesOf(100), { fraction: 0.1 });
    const r = new AugRng(11);
    const counts = new Map<number, number>();
    for (let k = 0; k < 20000; k++) {
      const d = drawDonor(r, s.indices);
      expect(s.member[d]).toBe(1);
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(250);
    expect(() => drawDonor(r, [])).toThrow(/empty/);
  });

  it('draws the reference ranges, and the same geometry for every method under one seed', () => {
    const samples = samplesOf(50);
    const s = selectMaskSubset(samples, { fraction: 0.5 });
    const draw = (method: (typeof METHODS)[number]) =>
      drawBatchParams(Array.from({ length: 50 }, (_, i) => i), {
        augRng: AugRng.forStream(1, 'augment'),
        mixRng: AugRng.forStream(1, 'mix'),
        method,
        member: s.member,
        subset: s.indices,
        size: 17,
        cutmixProb: 1,
        augment: true,
      });
    const bm = draw('backmix');
    for (const p of bm.samples) {
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(30);
      expect(Math.abs(p.alpha - 1)).toBeLessThanOrEqual(0.15);
      expect(Math.abs(p.beta)).toBeLessThanOrEqual(0.15);
      expect(p.masked).toBe(s.member[p.index] === 1);
      if (p.masked) expect(s.member[p.donor]).toBe(1);
      else expect(p.donor).toBe(-1);
    }
    expect(bm.samples.some((p) => p.flip)).toBe(true);
    expect(bm.samples.some((p) => !p.flip)).toBe(true);
    const geo = (p: ReturnType<typeof draw>) => p.samples.map(({ angle, flip, alpha, beta }) => [angle, flip, alpha, beta]);
    for (const m of METHODS) expect(geo(draw(m)), m).toEqual(geo(bm));
    expect(draw('none').samples.every((p) => !p.masked)).toBe(true);
  });

  it('CutMix boxes follow Yun et al.: clipped box, λ from the area, a permutation of partners', () => {
    const r = new AugRng(8);
    let inactive = 0;
    for (let k = 0; k < 300; k++) {
      const c = drawCutMix(r, 6, 17, 0.5);
      expect([...c.partner].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      if (!c.active) {
        inactive++;
        expect(c.lam).toBe(1);
        continue;
      }
      const [x1, y1, x2, y2] = c.box;
      expect(0 <= x1 && x1 <= x2 && x2 <= 17 && 0 <= y1 && y1 <= y2 && y2 <= 17).toBe(true);
      expect(c.lam).toBeCloseTo(1 - ((x2 - x1) * (y2 - y1)) / 289, 12);
    }
    expect(Math.abs(inactive - 150)).toBeLessThan(45);
  });

  it('parses method names', () => {
    expect(parseMethod('BackMix')).toBe('backmix');
    expect(() => parseMethod('mixup')).toThrow(/expected one of/);
  });
});
