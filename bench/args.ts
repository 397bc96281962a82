// What the bench/ scripts share: argument reading, A/B environment settings, result files and
// seeded input buffers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
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

/** An A/B side: WGML_NAME=VALUE, where an empty VALUE means unset (the adapter's own table). */
export type EnvSetting = [string, string];

export function envSetting(v: string, flag: string): EnvSetting {
  const m = /^(WGML_\w+)=(.*)$/.exec(v);
  if (!m) throw new Error(`${flag} must be WGML_NAME=VALUE (empty VALUE = unset), got '${v}'`);
  return [m[1]!, m[2]!];
}

export function applyEnv([name, value]: EnvSetting): void {
  if (value === '') delete process.env[name];
  else process.env[name] = value;
}

export function describeEnv([name, value]: EnvSetting): string {
  return value === '' ? `${name} unset` : `${name}=${value}`;
}

/** Runs `fn` and then puts the variables the two sides touch back as they were. */
export async function withEnvRestored<T>(sides: EnvSetting[], fn: () => Promise<T>): Promise<T> {
  const saved = new Map(sides.map(([k]) => [k, process.env[k]]));
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Prints a result and, with a name, writes it to bench/results/<file>. */
export function writeResult(md: string, file: string | null): void {
  console.log(md);
  if (!file) return;
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), md);
  console.log(`wrote ${join(dir, file)}`);
}
