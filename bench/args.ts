// What the bench/ scripts share: argument reading and seeded input buffers.
import type { Runtime } from '../src/kernels/runtime.js';
import type { PooledBuffer } from '../src/kernels/buffer_pool.js';
import { rand } from '../src/bench/suite.js';

/** The value after flag argv[i] (an error naming the flag when it is missing). */
export function flagValue(argv: string[], i: number): string {
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`${argv[i]} needs a value`);
  return v;
}

/** A buffer of n uniform values in [−0.5, 0.5) from the benchmark suite's LCG, so runs see the same data. */
export function randomBuffer(rt: Runtime, n: number, seed: number, label: string): PooledBuffer {
  return rt.upload(rand(n, seed, 0.5), label);
}
