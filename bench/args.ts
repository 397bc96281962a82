// What the bench/ scripts share: argument reading and seeded input buffers.
import type { Runtime } from '../src/kernels/runtime.js';
import type { PooledBuffer } from '../src/kernels/buffer_pool.js';

/** The value after flag argv[i] (an error naming the flag when it is missing). */
export function flagValue(argv: string[], i: number): string {
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`${argv[i]} needs a value`);
  return v;
}

/** A buffer of n uniform values in [−0.5, 0.5) from a fixed LCG, so runs see the same data. */
export function randomBuffer(rt: Runtime, n: number, seed: number, label: string): PooledBuffer {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return rt.upload(a, label);
}
