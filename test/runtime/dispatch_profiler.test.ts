// GPU time per dispatch from timestamp queries (src/kernels/dispatch_profiler.ts): every profiled
// dispatch is counted under its label, results do not change, and the encoder flushes when the
// query set is full.
import { describe, it, expect } from 'vitest';
import { DispatchProfiler } from '../../src/kernels/dispatch_profiler.js';
import { axpby } from '../../src/kernels/elementwise.js';
import { gpuRuntime } from '../helpers/gpu.js';

describe('dispatch profiler', () => {
  it('times each dispatch under its label, past a full query set, without changing results', async () => {
    const rt = await gpuRuntime();
    const n = 1000;
    const x = rt.upload(Float32Array.from({ length: n }, (_, i) => i));
    const y = rt.upload(Float32Array.from({ length: n }, (_, i) => 2 * i));
    const out = rt.allocF32(n);
    const profiler = new DispatchProfiler(rt.device, 3);
    rt.encoder.profiler = profiler;
    try {
      // 7 dispatches through a set of 3: the encoder resolves and flushes twice on the way.
      for (let k = 0; k < 7; k++) axpby(rt, n, 1, x, k, y, out);
      await rt.finish();
    } finally {
      rt.encoder.profiler = null;
    }
    const got = await rt.readF32(out, n);
    expect(Array.from(got.subarray(0, 4))).toEqual([0, 13, 26, 39]);
    const times = await profiler.collect();
    expect([...times.keys()]).toEqual(['axpby']);
    const t = times.get('axpby')!;
    expect(t.count).toBe(7);
    expect(t.ms).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(t.ms)).toBe(true);
    // Collected stamps are not returned twice.
    expect((await profiler.collect()).size).toBe(0);
    profiler.destroy();
    for (const b of [x, y, out]) rt.release(b);
  });
});
