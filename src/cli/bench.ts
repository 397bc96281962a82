// `wgml bench`: wgml against TensorFlow.js (WebGPU on the same adapter, WebAssembly, CPU), gpu.js
// and PyTorch CPU, every ResNet18 kernel and the whole training step, in one run. The peers are
// devDependencies, loaded only here (by dynamic import); a missing one is a skip reason.
//
//   wgml bench [--quick] [--peers tfjs-webgpu,tfjs-wasm,tfjs-cpu,gpujs,torch-cpu] [--out DIR] [--only TEXT,…] [--samples N]
import type { Command } from 'commander';
import { globalOptions, optionalPositiveInt } from './options.js';

const ALL = 'tfjs-webgpu,tfjs-wasm,tfjs-cpu,gpujs,torch-cpu';

export interface BenchCliOptions {
  quick?: boolean;
  peers: string;
  out: string;
  only?: string;
  samples?: string;
  maxCallSeconds?: string;
  maxEstimateMinutes?: string;
  report?: string;
  merge?: string;
}

export async function runBenchCli(o: BenchCliOptions, adapter?: string): Promise<void> {
  if (o.merge && !o.report) throw new Error('--merge needs --report <json> (the run the cases are added to)');
  if (o.report) {
    // Re-render the markdown and the chart of an earlier run from its JSON.
    const { readFileSync } = await import('node:fs');
    const { writeReport, renderChart } = await import('../bench/report.js');
    const base = o.report.replace(/\.json$/, '');
    let r = JSON.parse(readFileSync(o.report, 'utf8'));
    if (o.merge) {
      const { mergeResults } = await import('../bench/report.js');
      const { basename } = await import('node:path');
      const others = o.merge.split(',').map((f) => f.trim()).filter(Boolean).map((file) => ({ file: basename(file), result: JSON.parse(readFileSync(file, 'utf8')) }));
      r = mergeResults(r, others); // writeReport below rewrites the JSON with the merged cases
    }
    writeReport(r, base);
    await renderChart(r, base);
    console.log(`wrote ${base}.md, ${base}.vl.json, ${base}.svg`);
    return;
  }
  const { runBench } = await import('../bench/suite.js');
  const { PEERS } = await import('../bench/peers.js');
  const peers = o.peers === 'none' ? [] : o.peers.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of peers) if (!(PEERS as readonly string[]).includes(p)) throw new Error(`--peers: unknown peer '${p}' (known: ${PEERS.join(', ')})`);
  const samples = optionalPositiveInt('samples', o.samples);
  await runBench({
    adapter, quick: !!o.quick, peers: peers as never, out: o.out, samples,
    maxCallSeconds: optionalPositiveInt('max-call-seconds', o.maxCallSeconds),
    maxEstimateMinutes: optionalPositiveInt('max-estimate-minutes', o.maxEstimateMinutes),
    only: o.only ? o.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
  });
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time wgml against TensorFlow.js, gpu.js and PyTorch CPU (kernels and the whole training step)')
    .option('--quick', 'a few shapes and the width-8 training step (minutes on a software GPU)')
    .option('--peers <list>', `comma-separated peers, or 'none'`, ALL)
    .option('--out <dir>', 'where <adapter>[-quick]-<date>.{json,md,vl.json,svg} go', 'bench/results')
    .option('--only <text,…>', 'only cases whose name contains one of these')
    .option('--samples <n>', 'timed samples per case (default 5, quick 2)')
    .option('--max-call-seconds <s>', 'a call slower than this is timed once only (default 120)')
    .option('--report <json>', 'only re-render the markdown and chart of an earlier run')
    .option('--merge <json,…>', "with --report: add the cases of later runs (e.g. --only runs that finished a cut suite) to that run's JSON first")
    .option('--max-estimate-minutes <m>', "skip a peer's CIFAR-stem step estimated to take longer (default 8)")
    .action(async (o: BenchCliOptions, cmd: Command) => {
      await runBenchCli(o, globalOptions(cmd).adapter);
    });
}
