// Kernel benchmark: GFLOP/s of conv2d forward, input gradient and weight gradient for every
// distinct conv shape of ResNet18 at 112×112 input (BackMix's CIFAR-style stem and torchvision's
// stem), next to the best 1024³ matmul on the same adapter.
//
//   npm run bench:kernels -- [--adapter lavapipe|swiftshader|gpu|auto] [--quick] [--batch 16]
//                            [--reps 3] [--stem cifar|torchvision|both] [--only <substring>] [--json]
//
// Timing: each kernel runs once untimed (JIT compile, pool warm-up), then `reps` times, each
// ended by `await rt.finish()`; the median is reported. Launcher overheads (padding copies,
// weight repacking, the reduce pass) are inside the timed region, as in training.
// Writes bench/results/kernels-<adapter>[-quick].{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Runtime } from '../src/kernels/runtime.js';
import type { PooledBuffer } from '../src/kernels/buffer_pool.js';
import { matmul } from '../src/kernels/matmul.js';
import { matmulTiling } from '../src/kernels/tuning.js';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, conv2dFlops, conv2dPlan,
  type Conv2dShape,
} from '../src/kernels/conv2d.js';
import { resnet18ConvShapes, type NamedConv } from './resnet_shapes.js';

interface Args {
  adapter?: string;
  quick: boolean;
  batch?: number;
  reps?: number;
  stem: 'cifar' | 'torchvision' | 'both';
  only?: string;
  json: boolean;
  matmulTiles?: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, stem: 'both', json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--adapter') a.adapter = next();
    else if (k === '--quick') a.quick = true;
    else if (k === '--batch') a.batch = Number(next());
    else if (k === '--reps') a.reps = Number(next());
    else if (k === '--stem') a.stem = next() as Args['stem'];
    else if (k === '--only') a.only = next();
    else if (k === '--json') a.json = true;
    else if (k === '--matmul-tiles') a.matmulTiles = next().split(',');
    else if (k === '--help' || k === '-h') {
      console.log('npm run bench:kernels -- [--adapter KIND] [--quick] [--batch N] [--reps N] [--stem cifar|torchvision|both] [--only TEXT] [--matmul-tiles 8x8,16x16] [--json]');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  if (!['cifar', 'torchvision', 'both'].includes(a.stem)) throw new Error(`--stem must be cifar, torchvision or both`);
  return a;
}

function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Seconds per call: one untimed warm-up (compile), then `reps` synced calls; median. */
async function time(rt: Runtime, reps: number, f: () => void): Promise<{ seconds: number; firstSeconds: number }> {
  const t0 = performance.now();
  f();
  await rt.finish();
  const firstSeconds = (performance.now() - t0) / 1000;
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    await rt.finish();
    runs.push((performance.now() - t) / 1000);
  }
  return { seconds: median(runs), firstSeconds };
}

function randomBuffer(rt: Runtime, n: number, seed: number, label: string): PooledBuffer {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return rt.upload(a, label);
}

interface MatmulResult {
  tile: string;
  seconds: number;
  gflops: number;
}

interface ConvResult {
  name: string;
  stem: string;
  shape: Conv2dShape;
  Ho: number;
  Wo: number;
  count: number;
  gflop: number;
  tiles: ReturnType<typeof conv2dPlan>;
  forward: { seconds: number; gflops: number; firstSeconds: number };
  backwardInput: { seconds: number; gflops: number; firstSeconds: number };
  backwardWeight: { seconds: number; gflops: number; firstSeconds: number };
}

async function benchMatmul(rt: Runtime, tiles: string[], reps: number, log: (s: string) => void): Promise<MatmulResult[]> {
  const n = 1024;
  const A = randomBuffer(rt, n * n, 1, 'bench.A');
  const B = randomBuffer(rt, n * n, 2, 'bench.B');
  const C = rt.allocF32(n * n, 'bench.C');
  const out: MatmulResult[] = [];
  const saved = process.env.WGML_MATMUL_TILE;
  for (const tile of tiles) {
    if (tile === 'default') delete process.env.WGML_MATMUL_TILE;
    else process.env.WGML_MATMUL_TILE = tile;
    const t = matmulTiling(rt.gpu.info.kind);
    const name = `${t.TM}x${t.TN}`;
    const { seconds } = await time(rt, reps, () => matmul(rt, A, B, C, { M: n, N: n, K: n }));
    const r = { tile: tile === 'default' ? `${name} (default)` : name, seconds, gflops: (2 * n ** 3) / seconds / 1e9 };
    log(`matmul 1024³ tile ${r.tile}: ${r.gflops.toFixed(2)} GFLOP/s (${(seconds * 1e3).toFixed(0)} ms)`);
    out.push(r);
  }
  if (saved === undefined) delete process.env.WGML_MATMUL_TILE;
  else process.env.WGML_MATMUL_TILE = saved;
  for (const b of [A, B, C]) rt.release(b);
  return out;
}

async function benchConv(rt: Runtime, c: NamedConv, reps: number): Promise<ConvResult> {
  const s = c.shape;
  const { Ho, Wo } = conv2dOutputSize(s);
  const nx = s.N * s.Ci * s.H * s.W;
  const nw = s.Co * s.Ci * s.KH * s.KW;
  const ny = s.N * s.Co * Ho * Wo;
  const x = randomBuffer(rt, nx, 3, 'bench.x');
  const w = randomBuffer(rt, nw, 4, 'bench.w');
  const dy = randomBuffer(rt, ny, 5, 'bench.dy');
  const y = rt.allocF32(ny, 'bench.y');
  const dx = rt.allocF32(nx, 'bench.dx');
  const dw = rt.allocF32(nw, 'bench.dw');
  // ResNet convs have no bias (BatchNorm follows), so none is timed.
  const flops = conv2dFlops(s);
  const rate = (t: { seconds: number; firstSeconds: number }) => ({ ...t, gflops: flops / t.seconds / 1e9 });
  const forward = rate(await time(rt, reps, () => conv2dForward(rt, x, w, null, y, s)));
  const backwardInput = rate(await time(rt, reps, () => conv2dBackwardInput(rt, dy, w, dx, s)));
  const backwardWeight = rate(await time(rt, reps, () => conv2dBackwardWeight(rt, x, dy, dw, null, s)));
  for (const b of [x, w, dy, y, dx, dw]) rt.release(b);
  rt.flush();
  rt.pool.trim();
  return {
    name: c.name, stem: c.stem, shape: s, Ho, Wo, count: c.count, gflop: flops / 1e9,
    tiles: conv2dPlan(rt.gpu.info.kind, s), forward, backwardInput, backwardWeight,
  };
}

function markdown(meta: Record<string, unknown>, mm: MatmulResult[], convs: ConvResult[], best: number): string {
  const pct = (g: number) => `${((100 * g) / best).toFixed(0)}%`;
  const lines = [
    `# wgml kernel benchmark — ${meta.adapter}`,
    '',
    `Adapter: ${meta.adapterName} (${meta.adapter}); batch ${meta.batch}; ${meta.reps} timed reps (median) after one warm-up; ${meta.date}.`,
    `Host: ${meta.host}. Timings on a shared 2-core machine are noisy: compare ratios within one run.`,
    '',
    '## matmul 1024³',
    '',
    '| tile TM×TN | ms | GFLOP/s |',
    '|---|---:|---:|',
    ...mm.map((r) => `| ${r.tile} | ${(r.seconds * 1e3).toFixed(1)} | ${r.gflops.toFixed(2)} |`),
    '',
    `Best matmul: **${best.toFixed(2)} GFLOP/s**. Targets: conv forward ≥ 60% of it on 3×3 shapes, backward passes ≥ 40%.`,
    '',
    '## conv2d (ResNet18 at 112×112)',
    '',
    '| stem | conv | Ci→Co | k | s | in | out | GFLOP | fwd GFLOP/s | dx GFLOP/s | dw GFLOP/s | fwd % | dx % | dw % | fwd tile (channels×columns) |',
    '|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...convs.map((c) => {
      const s = c.shape;
      const t = c.tiles.forward;
      return `| ${c.stem} | ${c.name} | ${s.Ci}→${s.Co} | ${s.KH}×${s.KW} | ${s.stride} | ${s.H}² | ${c.Ho}² | ${c.gflop.toFixed(2)} | ${c.forward.gflops.toFixed(2)} | ${c.backwardInput.gflops.toFixed(2)} | ${c.backwardWeight.gflops.toFixed(2)} | ${pct(c.forward.gflops)} | ${pct(c.backwardInput.gflops)} | ${pct(c.backwardWeight.gflops)} | ${4 * t.COTV}×${4 * t.TWV} |`;
    }),
    '',
  ];
  const k3 = convs.filter((c) => c.shape.KH === 3);
  if (k3.length) {
    const gm = (f: (c: ConvResult) => number) => Math.exp(k3.reduce((a, c) => a + Math.log(f(c)), 0) / k3.length);
    lines.push(
      `3×3 shapes, geometric mean: forward ${gm((c) => c.forward.gflops).toFixed(2)} GFLOP/s (${pct(gm((c) => c.forward.gflops))}), ` +
        `input grad ${gm((c) => c.backwardInput.gflops).toFixed(2)} (${pct(gm((c) => c.backwardInput.gflops))}), ` +
        `weight grad ${gm((c) => c.backwardWeight.gflops).toFixed(2)} (${pct(gm((c) => c.backwardWeight.gflops))}) of the best matmul.`,
      '',
    );
  }
  for (const stem of ['cifar', 'torchvision']) {
    const cs = convs.filter((c) => c.stem === stem);
    if (!cs.length) continue;
    // Time of all convs of one training step (each shape × its count in the network).
    const t = cs.reduce((a, c) => a + c.count * (c.forward.seconds + c.backwardInput.seconds + c.backwardWeight.seconds), 0);
    const g = cs.reduce((a, c) => a + c.count * 3 * c.gflop, 0);
    lines.push(`${stem} stem: all convs of one step (fwd+dx+dw, each shape × its count) ${t.toFixed(2)} s for ${g.toFixed(1)} GFLOP = ${(g / t).toFixed(2)} GFLOP/s (the first conv's dx is included although training does not need it).`, '');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = await Runtime.create({ adapter: args.adapter });
  const kind = rt.gpu.info.kind;
  const batch = args.batch ?? (args.quick ? 2 : 16);
  const reps = args.reps ?? (args.quick ? 1 : 3);
  const log = (s: string) => {
    if (!args.json) console.log(s);
    else console.error(s);
  };
  log(`adapter: ${rt.gpu.info.name} (${kind}); batch ${batch}; reps ${reps}`);
  const tiles = args.matmulTiles ?? (args.quick ? ['default', '8x16'] : ['default', '4x4', '4x8', '8x16', '16x16']);
  const mm = await benchMatmul(rt, tiles, reps, log);
  const best = Math.max(...mm.map((r) => r.gflops));

  const stems = args.stem === 'both' ? (['cifar', 'torchvision'] as const) : ([args.stem] as const);
  const shapes = stems.flatMap((st) => resnet18ConvShapes(st, batch)).filter((c) => !args.only || `${c.stem} ${c.name}`.includes(args.only));
  const convs: ConvResult[] = [];
  for (const c of shapes) {
    const r = await benchConv(rt, c, reps);
    log(
      `${c.stem.padEnd(11)} ${c.name.padEnd(24)} ${r.gflop.toFixed(2).padStart(7)} GFLOP  fwd ${r.forward.gflops.toFixed(2)}  dx ${r.backwardInput.gflops.toFixed(2)}  dw ${r.backwardWeight.gflops.toFixed(2)} GFLOP/s` +
        `  (first calls ${r.forward.firstSeconds.toFixed(1)}/${r.backwardInput.firstSeconds.toFixed(1)}/${r.backwardWeight.firstSeconds.toFixed(1)} s)`,
    );
    convs.push(r);
  }

  const meta = {
    adapter: kind,
    adapterName: rt.gpu.info.name,
    batch,
    reps,
    quick: args.quick,
    date: new Date().toISOString(),
    host: `${process.platform} node ${process.version}`,
  };
  const result = { meta, matmul: mm, bestMatmulGflops: best, conv2d: convs };
  const md = markdown(meta, mm, convs, best);
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `kernels-${kind}${args.quick ? '-quick' : ''}${args.only ? '-partial' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(`${base}.md`, md + '\n');
  if (args.json) console.log(JSON.stringify(result, null, 2));
  else console.log(`\n${md}\nwrote ${base}.json and ${base}.md`);
  rt.destroy();
}

await main();
