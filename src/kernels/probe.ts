// A short matmul throughput probe: how fast this adapter runs wgml's own GEMM.
import type { Runtime } from './runtime.js';
import { matmul } from './matmul.js';

export interface ProbeResult {
  size: number;
  iterations: number;
  seconds: number;
  gflops: number;
}

/** Runs N×N×N matmuls for about `seconds` (after one warm-up that pays the JIT) and reports GFLOP/s. */
export async function matmulProbe(rt: Runtime, seconds = 2, size = 512): Promise<ProbeResult> {
  const n = size;
  const a = rt.upload(new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5), 'probe.a');
  const b = rt.upload(new Float32Array(n * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5), 'probe.b');
  const c = rt.allocF32(n * n, 'probe.c');
  try {
    matmul(rt, a, b, c, { M: n, N: n, K: n, label: 'probe matmul' });
    await rt.finish('matmul probe warm-up');
    let iterations = 0;
    const start = performance.now();
    let elapsed = 0;
    // Batches of a few dispatches per submit, as training issues them.
    while (elapsed < seconds * 1000) {
      for (let i = 0; i < 2; i++) matmul(rt, a, b, c, { M: n, N: n, K: n, label: 'probe matmul' });
      await rt.finish('matmul probe');
      iterations += 2;
      elapsed = performance.now() - start;
    }
    const flops = 2 * n * n * n * iterations;
    return { size: n, iterations, seconds: elapsed / 1000, gflops: flops / (elapsed / 1000) / 1e9 };
  } finally {
    for (const buf of [a, b, c]) rt.release(buf);
  }
}
