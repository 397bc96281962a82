import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/data/map_limit.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const out = await mapLimit(
      [5, 1, 4, 2, 3, 0, 2, 1],
      3,
      async (ms, i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick(ms);
        inFlight--;
        return i * 10;
      },
      (d, total) => done.push(d / total),
    );
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
    expect(done).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((d) => d / 8));
  });

  it('rethrows the first failure and starts no new work after it', async () => {
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      await tick(1);
      if (x === 1) throw new Error('boom at 1');
      return x;
    });
    await expect(run).rejects.toThrow('boom at 1');
    expect(started.length).toBeLessThan(6);
  });

  it('handles an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
