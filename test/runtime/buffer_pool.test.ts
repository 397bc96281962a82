import { describe, it, expect } from 'vitest';
import { sizeClass } from '../../src/kernels/buffer_pool.js';
import { relu } from '../../src/kernels/elementwise.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';

describe('buffer pool', () => {
  it('size classes waste at most 25% and are monotone', () => {
    let prev = 0;
    for (let bytes = 1; bytes < 5e7; bytes = Math.ceil(bytes * 1.37)) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c).toBeGreaterThanOrEqual(prev);
      if (bytes > 4096) expect(c / bytes).toBeLessThanOrEqual(1.25);
      prev = c;
    }
  });

  it('allocating and freeing the same shapes 1,000 times leaves bytesAllocated flat', async () => {
    const rt = await gpuRuntime();
    const shapes = [4 * 1000, 4 * 4096, 4 * 123457, 256];
    const cycle = () => {
      const bufs = shapes.map((b) => rt.alloc(b, 'pool-test'));
      for (const b of bufs) rt.release(b);
      rt.flush();
    };
    cycle();
    const after1 = rt.pool.stats();
    for (let i = 0; i < 1000; i++) cycle();
    const after1000 = rt.pool.stats();
    expect(after1000.bytesAllocated).toBe(after1.bytesAllocated);
    expect(after1000.buffersCreated).toBe(after1.buffersCreated);
  });

  it('keeps memory flat across repeated kernel launches with params and readbacks', async () => {
    const rt = await gpuRuntime();
    const data = uniform(1000, 7);
    const step = async () => {
      const x = rt.upload(data, 'x');
      const y = rt.allocF32(1000, 'y');
      relu(rt, 1000, x, y);
      const out = await rt.readF32(y, 1000);
      rt.release(x);
      rt.release(y);
      return out;
    };
    const first = await step();
    const base = rt.pool.stats().bytesAllocated;
    for (let i = 0; i < 50; i++) await step();
    expect(rt.pool.stats().bytesAllocated).toBe(base);
    expect(first[0]).toBe(Math.max(0, data[0]!));
  });

  it('refuses a double release', async () => {
    const rt = await gpuRuntime();
    const b = rt.alloc(64, 'double');
    rt.release(b);
    expect(() => rt.release(b)).toThrow(/released twice/);
    rt.flush();
  });
});
