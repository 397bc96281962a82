// Shared plumbing of the one-dispatch probes (load_cost.ts, store_cost.ts): their flags, the
// timing of each variant's single dispatch, and writing the result table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../src/bench/timing.js';
import { flagValue } from './args.js';

export interface ProbeArgs {
  adapter?: string;
  out: string;
}

export function probeArgs(argv: string[]): ProbeArgs {
  const args: ProbeArgs = { out: 'bench/results' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--adapter') args.adapter = flagValue(argv, i++);
    else if (argv[i] === '--out') args.out = flagValue(argv, i++);
    else throw new Error(`unknown option ${argv[i]} (expected --adapter, --out)`);
  }
  return args;
}

export interface ProbeKernel<V> {
  v: V;
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  x: number;
  y: number;
}

/**
 * Median ms per variant: one untimed dispatch each, then three rounds over all variants in turn
 * (so load drifts hit them alike), each round the median of 5 dispatches awaited one by one.
 */
export async function timeProbes<V>(dev: GPUDevice, kernels: ProbeKernel<V>[]): Promise<Map<V, number>> {
  const runOnce = async (k: ProbeKernel<V>): Promise<number> => {
    const t0 = performance.now();
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, k.group);
    pass.dispatchWorkgroups(k.x, k.y);
    pass.end();
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  const rounds = new Map<V, number[]>(kernels.map((k) => [k.v, []]));
  for (const k of kernels) await runOnce(k);
  for (let round = 0; round < 3; round++) {
    for (const k of kernels) {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) t.push(await runOnce(k));
      rounds.get(k.v)!.push(median(t));
    }
  }
  return new Map([...rounds].map(([v, t]) => [v, median(t)]));
}

export function writeProbe(out: string, name: string, md: string): void {
  console.log(md);
  mkdirSync(out, { recursive: true });
  const file = join(out, name);
  writeFileSync(file, md);
  console.log(`wrote ${file}`);
}
