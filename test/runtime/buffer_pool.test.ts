import { describe, it, expect } from 'vitest';
import { BufferPool, sizeClass } from '../../src/kernels/buffer_pool.js';
import { fill, relu } from '../../src/kernels/elementwise.js';
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

  it('reuses a storage buffer released mid-batch at once; kernels encoded earlier still read the old contents', async () => {
    const rt = await gpuRuntime();
    const n = 1531;
    const data = uniform(n, 11);
    const other = uniform(n, 12);
    const a = rt.upload(data, 'a');
    const b = rt.allocF32(n, 'b');
    relu(rt, n, a, b);
    expect(rt.encoder.idle).toBe(false);
    rt.release(a);
    // A kernel writes the reused buffer after relu read it: command order keeps relu's input.
    const c = rt.allocF32(n, 'c');
    expect(c.buffer).toBe(a.buffer);
    fill(rt, n, c, -7);
    const d = rt.allocF32(n, 'd');
    relu(rt, n, c, d);
    rt.release(c);
    // A host write into a reused buffer: Encoder.write submits what reads the old contents first.
    const e = rt.upload(other, 'e');
    expect(e.buffer).toBe(a.buffer);
    const [bOut, dOut, eOut] = [await rt.readF32(b, n), await rt.readF32(d, n), await rt.readF32(e, n)];
    expect(bOut).toEqual(data.map((v) => Math.max(0, v)));
    expect(dOut.every((v) => v === 0)).toBe(true);
    expect(eOut).toEqual(other);
    for (const x of [b, d, e]) rt.release(x);
  });

  it('keeps a released uniform buffer until the submit: queue.writeBuffer would overtake the pending commands', async () => {
    const rt = await gpuRuntime();
    const pool = new BufferPool(rt.device);
    const u = pool.acquire(64, 'uniform', 'u');
    pool.release(u);
    const v = pool.acquire(64, 'uniform', 'v');
    expect(v.buffer).not.toBe(u.buffer);
    pool.afterSubmit();
    expect(pool.acquire(64, 'uniform', 'w').buffer).toBe(u.buffer);
    pool.trim();
  });

  it('trimIdle destroys the free buffers nobody took since the previous call', async () => {
    const rt = await gpuRuntime();
    const pool = new BufferPool(rt.device);
    const a = pool.acquire(10_000, 'storage', 'a');
    const b = pool.acquire(1_000_000, 'storage', 'b');
    pool.release(a);
    pool.release(b);
    const all = pool.stats().bytesAllocated;
    expect(pool.trimIdle()).toBe(0); // both used since the pool began
    pool.release(pool.acquire(10_000, 'storage', 'a again'));
    expect(pool.trimIdle()).toBe(b.buffer.size);
    expect(pool.stats().bytesAllocated).toBe(all - b.buffer.size);
    // A buffer still held is never trimmed, and is "used" for the next round.
    const held = pool.acquire(10_000, 'storage', 'held');
    expect(pool.trimIdle()).toBe(0);
    pool.release(held);
    expect(pool.trimIdle()).toBe(0);
    expect(pool.trimIdle()).toBe(held.buffer.size);
    expect(pool.stats().bytesAllocated).toBe(0);
  });

  it('refuses a double release', async () => {
    const rt = await gpuRuntime();
    const b = rt.alloc(64, 'double');
    rt.release(b);
    expect(() => rt.release(b)).toThrow(/released twice/);
    rt.flush();
  });
});
