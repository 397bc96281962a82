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
import { median } from '../src/bench/timing.js';
import { flagValue, randomBuffer } from './args.js';
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
    const next = () => flagValue(argv, i++);
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


interface Timing {
  /** Median wall-clock seconds per call. */
  seconds: number;
  /** Median CPU seconds (all threads of this process, i.e. the software GPU's workers) per call. */
  cpuSeconds: number;
  /** The untimed first call, which includes JIT compilation. */
  firstSeconds: number;
}

/**
 * One untimed warm-up (compile), then `reps` synced calls; medians. CPU time is reported too
 * because the machine is shared: a software GPU's CPU seconds for the same work barely move
 * when other processes compete for the cores, while wall time does.
 */
async function time(rt: Runtime, reps: number, f: () => void): Promise<Timing> {
  const t0 = performance.now();
  f();
  await rt.finish();
  const firstSeconds = (performance.now() - t0) / 1000;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    f();
    await rt.finish();
    wall.push((performance.now() - t) / 1000);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1e6);
  }
  return { seconds: median(wall), cpuSeconds: median(cpu), firstSeconds };
}


interface MatmulResult extends Timing {
  tile: string;
  gflops: number;
  /** GFLOP per CPU-second. */
  gflopsPerCpu: number;
}

interface Rate extends Timing {
  gflops: number;
  gflopsPerCpu: number;
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
  forward: Rate;
  backwardInput: Rate;
  backwardWeight: Rate;
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
    const t0 = await time(rt, reps, () => matmul(rt, A, B, C, { M: n, N: n, K: n }));
    const flop = 2 * n ** 3;
    const r = { tile: tile === 'default' ? `${name} (default)` : name, ...t0, gflops: flop / t0.seconds / 1e9, gflopsPerCpu: flop / t0.cpuSeconds / 1e9 };
    log(`matmul 1024³ tile ${r.tile}: ${r.gflops.toFixed(2)} GFLOP/s, ${r.gflopsPerCpu.toFixed(2)} GFLOP/CPU-s (${(t0.seconds * 1e3).toFixed(0)} ms)`);
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
  const rate = (t: Timing): Rate => ({ ...t, gflops: flops / t.seconds / 1e9, gflopsPerCpu: flops / t.cpuSeconds / 1e9 });
  const forward = rate(await time(rt, reps, () => conv2dForward(rt, x, w, null, y, s)));
  const backwardInput = rate(await time(rt, reps, () => conv2dBackwardInput(rt, dy, w, dx, s)));
  const backwardWeight = rate(await time(rt, reps, () => conv2dBackwardWeight(rt, x, dy, dw, null, s)));
  for (const b of [x, w, dy, y, dx, dw]) rt.release(b);
  rt.flush();
  rt.pool.trim();
  return {
    name: c.name, stem: c.stem, shape: s, Ho, Wo, count: c.count, gflop: flops / 1e9,
    tiles: conv2dPlan(rt.gpu.info.kind, s, rt.gpu.info.subgroupSize), forward, backwardInput, backwardWeight,
  };
}

interface Best {
  wall: number;
  cpu: number;
}

function markdown(meta: Record<string, unknown>, mm: MatmulResult[], convs: ConvResult[], best: Best): string {
  const pw = (g: number) => `${((100 * g) / best.wall).toFixed(0)}%`;
  const pc = (g: number) => `${((100 * g) / best.cpu).toFixed(0)}%`;
  const lines = [
    `# wgml kernel benchmark — ${meta.adapter}`,
    '',
    `Adapter: ${meta.adapterName} (${meta.adapter}); batch ${meta.batch}; median of ${meta.reps} timed rep(s) after one warm-up; ${meta.date}; ${meta.host}.`,
    'Each call includes its launcher\'s cheap passes (padding copy, weight repack, weight-gradient reduce), as in training.',
    'The machine is shared (2 cores): wall-clock GFLOP/s move with other load, so GFLOP per CPU-second of this process',
    '(the software GPU\'s worker threads) is given too; ratios to the matmul use the same metric on both sides.',
    '',
    '## matmul 1024³ (src/kernels/matmul.ts, WGML_MATMUL_TILE sweep)',
    '',
    '| tile TM×TN | ms | GFLOP/s | GFLOP/CPU-s |',
    '|---|---:|---:|---:|',
    ...mm.map((r) => `| ${r.tile} | ${(r.seconds * 1e3).toFixed(1)} | ${r.gflops.toFixed(2)} | ${r.gflopsPerCpu.toFixed(2)} |`),
    '',
    `Best matmul: **${best.wall.toFixed(2)} GFLOP/s** wall, ${best.cpu.toFixed(2)} GFLOP/CPU-s. Targets: conv forward ≥ 60% of it on 3×3 shapes, backward passes ≥ 40%.`,
    '',
    '## conv2d (ResNet18 at 112×112)',
    '',
    'GFLOP/s are wall-clock; "% mm" is the share of the best matmul (wall), "% mm cpu" the same in GFLOP per CPU-second.',
    '',
    '| stem | conv | Ci→Co | k | s | in→out | GFLOP | fwd GFLOP/s | dx GFLOP/s | dw GFLOP/s | fwd % mm | dx % mm | dw % mm | fwd/dx/dw % mm cpu | fwd tile (ch×rows×cols) |',
    '|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...convs.map((c) => {
      const s = c.shape;
      const t = c.tiles.forward;
      return `| ${c.stem} | ${c.name} | ${s.Ci}→${s.Co} | ${s.KH}×${s.KW} | ${s.stride} | ${s.H}→${c.Ho} | ${c.gflop.toFixed(2)} | ` +
        `${c.forward.gflops.toFixed(2)} | ${c.backwardInput.gflops.toFixed(2)} | ${c.backwardWeight.gflops.toFixed(2)} | ` +
        `${pw(c.forward.gflops)} | ${pw(c.backwardInput.gflops)} | ${pw(c.backwardWeight.gflops)} | ` +
        `${pc(c.forward.gflopsPerCpu)} / ${pc(c.backwardInput.gflopsPerCpu)} / ${pc(c.backwardWeight.gflopsPerCpu)} | ${4 * t.COTV}×${t.THO}×${4 * t.TWV} |`;
    }),
    '',
  ];
  const k3 = convs.filter((c) => c.shape.KH === 3);
  if (k3.length) {
    const gm = (f: (c: ConvResult) => number) => Math.exp(k3.reduce((a, c) => a + Math.log(f(c)), 0) / k3.length);
    const fw = gm((c) => c.forward.gflops);
    const dx = gm((c) => c.backwardInput.gflops);
    const dw = gm((c) => c.backwardWeight.gflops);
    const min = (f: (c: ConvResult) => number) => Math.min(...k3.map(f));
    lines.push(
      `3×3 shapes (geometric mean, wall): forward ${fw.toFixed(2)} GFLOP/s = ${pw(fw)} of the best matmul (target 60%), ` +
        `input gradient ${dx.toFixed(2)} = ${pw(dx)}, weight gradient ${dw.toFixed(2)} = ${pw(dw)} (targets 40%). ` +
        `Worst 3×3 shape: forward ${pw(min((c) => c.forward.gflops))}, input gradient ${pw(min((c) => c.backwardInput.gflops))}, weight gradient ${pw(min((c) => c.backwardWeight.gflops))}.`,
      '',
    );
  }
  for (const stem of ['cifar', 'torchvision']) {
    const cs = convs.filter((c) => c.stem === stem);
    if (!cs.length) continue;
    // Time of all convs of one training step (each shape × its count in the network); the
    // stem's input gradient is left out because training does not need it.
    const t = cs.reduce((a, c) => a + c.count * (c.forward.seconds + (c.name === 'conv1' ? 0 : c.backwardInput.seconds) + c.backwardWeight.seconds), 0);
    const g = cs.reduce((a, c) => a + c.count * (c.name === 'conv1' ? 2 : 3) * c.gflop, 0);
    lines.push(`${stem} stem, all convs of one training step at batch ${meta.batch} (forward + input gradient + weight gradient, each shape × its count in ResNet18, no input gradient for conv1): ${t.toFixed(2)} s for ${g.toFixed(1)} GFLOP = ${(g / t).toFixed(2)} GFLOP/s.`, '');
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
  const best = { wall: Math.max(...mm.map((r) => r.gflops)), cpu: Math.max(...mm.map((r) => r.gflopsPerCpu)) };

  const stems = args.stem === 'both' ? (['cifar', 'torchvision'] as const) : ([args.stem] as const);
  const shapes = stems.flatMap((st) => resnet18ConvShapes(st, batch)).filter((c) => !args.only || `${c.stem} ${c.name}`.includes(args.only));
  const convs: ConvResult[] = [];
  for (const c of shapes) {
    const r = await benchConv(rt, c, reps);
    log(
      `${c.stem.padEnd(11)} ${c.name.padEnd(24)} ${r.gflop.toFixed(2).padStart(7)} GFLOP  fwd ${r.forward.gflops.toFixed(2)}  dx ${r.backwardInput.gflops.toFixed(2)}  dw ${r.backwardWeight.gflops.toFixed(2)} GFLOP/s` +
        `  (per CPU-s ${r.forward.gflopsPerCpu.toFixed(2)}/${r.backwardInput.gflopsPerCpu.toFixed(2)}/${r.backwardWeight.gflopsPerCpu.toFixed(2)})` +
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
  const result = { meta, matmul: mm, bestMatmul: best, conv2d: convs };
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
