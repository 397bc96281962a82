// Packing a repeating step's buffers (src/kernels/step_plan.ts) and the pool following the plan.
import { describe, it, expect } from 'vitest';
import { packStep, planBytes, type StepTrace } from '../../src/kernels/step_plan.js';
import { BufferPool, type PooledBuffer } from '../../src/kernels/buffer_pool.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { rng } from '../helpers/random.js';

/** A trace from a list of ops: a number acquires that many bytes, 'rK' releases acquire K. */
function trace(ops: (number | string)[]): StepTrace {
  return ops.map((o) => (typeof o === 'number' ? planBytes(o) : -(Number(o.slice(1)) + 1)));
}

/** The most bytes live at once in a trace: no packing can use fewer. */
function peakLive(t: StepTrace): number {
  const sizes: number[] = [];
  let live = 0;
  let peak = 0;
  for (const e of t) {
    if (e > 0) {
      sizes.push(e);
      live += e;
      peak = Math.max(peak, live);
    } else {
      live -= sizes[-e - 1]!;
    }
  }
  return peak;
}

/** Checks a plan: every slot holds each of its buffers, and no two buffers of a slot are live at once. */
function checkPlan(t: StepTrace): number {
  const plan = packStep(t);
  const holder = new Map<number, number>();
  let k = 0;
  for (const e of t) {
    if (e > 0) {
      const s = plan.slotOf[k]!;
      if (s >= 0) {
        expect(plan.slotBytes[s]!).toBeGreaterThanOrEqual(e);
        expect(holder.has(s), `slot ${s} given to acquire ${k} while acquire ${holder.get(s)} holds it`).toBe(false);
        holder.set(s, k);
      }
      k++;
    } else {
      const s = plan.slotOf[-e - 1]!;
      if (s >= 0) holder.delete(s);
    }
  }
  return plan.slotBytes.reduce((a, b) => a + b, 0);
}

describe('step plan', () => {
  it('packs a released buffer\'s slot for a later, smaller one; what outlives the step gets no slot', () => {
    // a and c never overlap, nor do b and d; e is never released.
    const t = trace([400_000, 300_000, 'r0', 350_000, 'r1', 250_000, 'r2', 'r3', 1000]);
    const plan = packStep(t);
    expect(plan.slotOf).toEqual([0, 1, 0, 1, -1]);
    expect(plan.slotBytes).toEqual([planBytes(400_000), planBytes(300_000)]);
    expect(checkPlan(t)).toBe(peakLive(t.slice(0, -1)));
  });

  it('random traces: no slot is shared by live buffers, and the plan stays within 1.5× the most bytes live at once', () => {
    const r = rng(17);
    for (let round = 0; round < 50; round++) {
      const ops: (number | string)[] = [];
      const live: number[] = [];
      let n = 0;
      for (let i = 0; i < 200; i++) {
        if (live.length > 0 && r() < 0.45) {
          const j = Math.floor(r() * live.length);
          ops.push(`r${live.splice(j, 1)[0]}`);
        } else {
          ops.push(Math.floor(1 + r() ** 3 * 5e6));
          live.push(n++);
        }
      }
      for (const k of live) ops.push(`r${k}`);
      const t = trace(ops);
      const bytes = checkPlan(t);
      expect(bytes).toBeGreaterThanOrEqual(peakLive(t));
      expect(bytes / peakLive(t)).toBeLessThanOrEqual(1.5);
    }
  });
});

describe('buffer pool following a step plan', () => {
  // Buffers of one step: a, b live; a released; c; b released; d; c, d released.
  function step(pool: BufferPool, sizes = [400_000, 300_000, 350_000, 250_000]): GPUBuffer[][] {
    const live: (PooledBuffer | null)[] = [];
    const snapshots: GPUBuffer[][] = [];
    const take = (bytes: number) => {
      live.push(pool.acquire(bytes, 'storage', 'step'));
      snapshots.push(live.flatMap((b) => (b ? [b.buffer] : [])));
    };
    const drop = (i: number) => {
      pool.release(live[i]!);
      live[i] = null;
    };
    pool.beginStep();
    take(sizes[0]!);
    take(sizes[1]!);
    drop(0);
    take(sizes[2]!);
    drop(1);
    take(sizes[3]!);
    drop(2);
    drop(3);
    pool.endStep();
    return snapshots;
  }
  const distinct = (snaps: GPUBuffer[][]) => {
    for (const s of snaps) expect(new Set(s).size, 'two live tensors share a GPU buffer').toBe(s.length);
  };

  it('packs the step after two identical ones and stays flat on the plan', async () => {
    const rt = await gpuRuntime();
    const pool = new BufferPool(rt.device);
    distinct(step(pool));
    const unplanned = pool.stats().bytesAllocated;
    expect(pool.stats().stepPlanBytes).toBe(0);
    distinct(step(pool));
    const planned = planBytes(400_000) + planBytes(300_000);
    expect(pool.stats().stepPlanBytes).toBe(planned);
    expect(pool.stats().bytesAllocated).toBe(planned);
    expect(planned).toBeLessThan(unplanned);
    const created = pool.stats().buffersCreated;
    for (let i = 0; i < 5; i++) {
      pool.resetPeak();
      distinct(step(pool));
      expect(pool.stats().peakBytesAllocated).toBe(planned);
    }
    expect(pool.stats().buffersCreated).toBe(created);
    pool.trim();
    expect(pool.stats().bytesAllocated).toBe(0);
  });

  it('a step that allocates differently falls back without sharing a live buffer, and the loop returns to the plan', async () => {
    const rt = await gpuRuntime();
    const pool = new BufferPool(rt.device);
    step(pool);
    step(pool);
    const planned = pool.stats().stepPlanBytes;
    // A smaller last batch: every size differs, so the step leaves the plan at its first acquire.
    distinct(step(pool, [200_000, 150_000, 175_000, 125_000]));
    // The plan survives a one-off step, and the loop is back on it at once.
    expect(pool.stats().stepPlanBytes).toBe(planned);
    const created = pool.stats().buffersCreated;
    distinct(step(pool));
    distinct(step(pool));
    expect(pool.stats().buffersCreated).toBe(created);
    // A buffer held across the step boundary makes the plan skip that slot, never share it.
    pool.beginStep();
    const held = pool.acquire(400_000, 'storage', 'held');
    pool.endStep();
    const snaps = step(pool);
    distinct(snaps);
    for (const s of snaps) expect(s).not.toContain(held.buffer);
    pool.release(held);
    pool.trim();
  });

  it('refuses nested steps and an end without a begin', async () => {
    const rt = await gpuRuntime();
    const pool = new BufferPool(rt.device);
    expect(() => pool.endStep()).toThrow(/no step is running/);
    pool.beginStep();
    expect(() => pool.beginStep()).toThrow(/do not nest/);
    pool.endStep();
  });
});
