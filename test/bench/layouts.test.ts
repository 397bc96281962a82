// The bench's pure parts: torch↔TF.js weight layouts, the agreement checks and the report's
// per-case shape (peer entries are {ms, gflops, ratio} or {skipped}). No GPU, no peer loaded.
import { describe, expect, it } from 'vitest';
import { oihwToHwio, toTorchLayout, transpose2d } from '../../src/bench/tf_resnet18.js';
import { relErr, stepCompare } from '../../src/bench/suite.js';
import { markdown, chartSpec, mergeResults, type BenchResult } from '../../src/bench/report.js';

describe('bench layouts', () => {
  it('OIHW → HWIO → OIHW is the identity and puts (o,i,h,w) at [h][w][i][o]', () => {
    const [O, I, H, W] = [3, 2, 3, 2];
    const data = Float32Array.from({ length: O * I * H * W }, (_, k) => k);
    const hwio = oihwToHwio({ shape: [O, I, H, W], data });
    expect(hwio[((2 * W + 1) * I + 1) * O + 2]).toBe(data[((2 * I + 1) * H + 2) * W + 1]);
    expect(Array.from(toTorchLayout(hwio, [H, W, I, O]))).toEqual(Array.from(data));
  });

  it('Linear [out,in] ↔ Dense [in,out]', () => {
    const d = Float32Array.of(1, 2, 3, 4, 5, 6); // [2,3]
    expect(Array.from(transpose2d(d, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(toTorchLayout(transpose2d(d, 2, 3), [3, 2]))).toEqual(Array.from(d));
  });
});

describe('bench agreement checks', () => {
  it('relErr is relative to the reference scale and fails on NaN and length mismatch', () => {
    expect(relErr(Float32Array.of(1, 2.002), Float32Array.of(1, 2)).rel).toBeCloseTo(1e-3, 6);
    expect(relErr(Float32Array.of(NaN, 2), Float32Array.of(1, 2)).rel).toBeNaN();
    expect(relErr(Float32Array.of(1), Float32Array.of(1, 2)).rel).toBe(Infinity);
  });

  it('training-step check: loss within 1e-3 and ≥ 90% of weight updates within 0.1·lr', () => {
    const lr = 1e-3;
    const ref = Float32Array.from([1.4, ...Array.from({ length: 10 }, (_, i) => (i % 2 ? lr : -lr))]);
    const close = ref.map((v, i) => (i === 0 ? v * (1 + 5e-4) : v + 0.05 * lr));
    expect(stepCompare(lr)(close, ref).ok).toBe(true);
    const oneFlip = close.slice();
    oneFlip[3] = -oneFlip[3]!; // 9 of 10 agree: still ok
    expect(stepCompare(lr)(oneFlip, ref).ok).toBe(true);
    oneFlip[4] = -oneFlip[4]!;
    expect(stepCompare(lr)(oneFlip, ref).ok).toBe(false);
    const badLoss = close.slice();
    badLoss[0] = 1.41;
    expect(stepCompare(lr)(badLoss, ref).ok).toBe(false);
  });
});

describe('bench report', () => {
  const r: BenchResult = {
    meta: { adapter: 'lavapipe', adapterName: 'llvmpipe', date: 'd', host: 'h', timing: 't', peers: { 'tfjs-wasm': { note: 'n' } }, finished: 'x' },
    cases: [
      { name: 'matmul 512³', tolerance: 1e-4, wgml: { ms: 10, gflops: 26.8 }, 'tfjs-wasm': { ms: 20, gflops: 13.4, ratio: 2 } },
      { name: 'training step', tolerance: 0, wgml: { ms: 100, gflops: null, imagesPerSec: 160 }, 'tfjs-wasm': { skipped: 'no Conv2DBackpropFilter' } },
    ],
  };

  it('tables every case and lists each skip reason', () => {
    const md = markdown(r);
    expect(md).toContain('| matmul 512³ | 10.0 | 26.80 |');
    expect(md).toContain('20.0 ms (×2.00)');
    expect(md).toContain('tfjs-wasm: no Conv2DBackpropFilter — training step');
    expect(md).toContain('| training step | 160.00 | skip |');
  });

  it('merges later runs: same name replaced, new cases after their family, each run named in the report', () => {
    const conv = (name: string, ms: number) => ({ name, tolerance: 1e-4, wgml: { ms, gflops: 1 } });
    const main: BenchResult = { meta: { ...r.meta, samples: 3 }, cases: [conv('conv cifar a', 1), conv('conv cifar b', 2), conv('matmul 512³', 3)] };
    const later: BenchResult = { meta: { ...r.meta, date: 'later', samples: 2 }, cases: [conv('conv cifar b', 20), conv('conv cifar c', 30)] };
    const m = mergeResults(main, [{ file: 'later.json', result: later }]);
    expect(m.cases.map((c) => [c.name, c.wgml.ms])).toEqual([['conv cifar a', 1], ['conv cifar b', 20], ['conv cifar c', 30], ['matmul 512³', 3]]);
    expect(m.meta.mergedFrom).toEqual([{ file: 'later.json', date: 'later', samples: 2, cases: ['conv cifar b', 'conv cifar c'] }]);
    expect(markdown(m)).toContain('Merged from a later run (later.json, later, 2 samples): 2 case(s), each with its peers from that same run.');
    expect(main.cases.map((c) => c.wgml.ms)).toEqual([1, 2, 3]);
  });

  it('charts only measured ratios', () => {
    const spec = chartSpec(r) as unknown as { data: { values: unknown[] } };
    expect(spec.data.values).toEqual([{ case: 'matmul 512³', peer: 'tfjs-wasm', ratio: 2 }]);
  });
});
