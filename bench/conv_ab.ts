// A/B benchmark for one conv2d pass under two settings of the WGML_CONV_* tile overrides, in one
// process, interleaved rep by rep (A, B, A, B, …) so both sides see the same machine load:
//
//   npm run bench:conv-ab -- --pass dw --a WGML_CONV_DW=SG=0 --b WGML_CONV_DW= \
//        [--adapter lavapipe] [--stem torchvision|cifar|both] [--batch 16] [--width 64] [--reps 3]
//        [--only <substring>] [--name sg-dw]
//
// `--a` / `--b` are NAME=VALUE settings of process environment variables (an empty value unsets
// it, i.e. the adapter's own table). Each shape is run once per side untimed (compile, pool
// warm-up), then `reps` times per side; medians are reported with B's speed-up over A, in wall
// time and in CPU seconds of this process (the software GPU's worker threads). The per-step
// sum weights each shape by how often ResNet18 runs it. Writes
// bench/results/conv-ab-<name>-<adapter>.md when --name is given.
import { Runtime } from '../src/kernels/runtime.js';
import { median } from '../src/bench/timing.js';
import { flagValue, randomBuffer, envSetting, applyEnv, describeEnv, withEnvRestored, writeResult, type EnvSetting } from './args.js';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, conv2dFlops,
} from '../src/kernels/conv2d.js';
import { resnet18ConvShapes, type NamedConv } from '../src/bench/resnet_shapes.js';

type Pass = 'fwd' | 'dx' | 'dw';

interface Args {
  adapter?: string;
  pass: Pass;
  a: EnvSetting;
  b: EnvSetting;
  stem: 'cifar' | 'torchvision' | 'both';
  batch: number;
  width: number;
  reps: number;
  only?: string;
  name?: string;
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = { stem: 'torchvision', batch: 16, width: 64, reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => flagValue(argv, i++);
    if (k === '--adapter') out.adapter = next();
    else if (k === '--pass') out.pass = next() as Pass;
    else if (k === '--a') out.a = envSetting(next(), '--a');
    else if (k === '--b') out.b = envSetting(next(), '--b');
    else if (k === '--stem') out.stem = next() as Args['stem'];
    else if (k === '--batch') out.batch = Number(next());
    else if (k === '--width') out.width = Number(next());
    else if (k === '--reps') out.reps = Number(next());
    else if (k === '--only') out.only = next();
    else if (k === '--name') out.name = next();
    else throw new Error(`unknown option ${k}`);
  }
  const errors: string[] = [];
  if (!out.pass || !['fwd', 'dx', 'dw'].includes(out.pass)) errors.push('--pass must be fwd, dx or dw');
  if (!out.a) errors.push('--a WGML_NAME=VALUE is required');
  if (!out.b) errors.push('--b WGML_NAME=VALUE is required');
  if (!['cifar', 'torchvision', 'both'].includes(out.stem!)) errors.push('--stem must be cifar, torchvision or both');
  if (!(Number.isInteger(out.batch) && out.batch! > 0)) errors.push('--batch must be a positive integer');
  if (!(Number.isInteger(out.width) && out.width! > 0)) errors.push('--width must be a positive integer');
  if (!(Number.isInteger(out.reps) && out.reps! > 0)) errors.push('--reps must be a positive integer');
  if (errors.length) throw new Error(errors.join('\n'));
  return out as Args;
}

interface Row {
  conv: NamedConv;
  gflop: number;
  a: { wall: number; cpu: number };
  b: { wall: number; cpu: number };
}

async function measure(rt: Runtime, args: Args, c: NamedConv): Promise<Row> {
  const s = c.shape;
  const { Ho, Wo } = conv2dOutputSize(s);
  const x = randomBuffer(rt, s.N * s.Ci * s.H * s.W, 3, 'ab.x');
  const w = randomBuffer(rt, s.Co * s.Ci * s.KH * s.KW, 4, 'ab.w');
  const dy = randomBuffer(rt, s.N * s.Co * Ho * Wo, 5, 'ab.dy');
  const y = rt.allocF32(s.N * s.Co * Ho * Wo, 'ab.y');
  const dx = rt.allocF32(s.N * s.Ci * s.H * s.W, 'ab.dx');
  const dw = rt.allocF32(s.Co * s.Ci * s.KH * s.KW, 'ab.dw');
  const run = args.pass === 'fwd' ? () => conv2dForward(rt, x, w, null, y, s)
    : args.pass === 'dx' ? () => conv2dBackwardInput(rt, dy, w, dx, s)
    : () => conv2dBackwardWeight(rt, x, dy, dw, null, s);
  const sides = [args.a, args.b] as const;
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  for (let rep = -1; rep < args.reps; rep++) {
    for (let side = 0; side < 2; side++) {
      applyEnv(sides[side]!);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      run();
      await rt.finish();
      if (rep < 0) continue;
      wall[side]!.push((performance.now() - t0) / 1000);
      const d = process.cpuUsage(c0);
      cpu[side]!.push((d.user + d.system) / 1e6);
    }
  }
  for (const b of [x, w, dy, y, dx, dw]) rt.release(b);
  rt.flush();
  rt.pool.trim();
  return {
    conv: c, gflop: conv2dFlops(s) / 1e9,
    a: { wall: median(wall[0]!), cpu: median(cpu[0]!) },
    b: { wall: median(wall[1]!), cpu: median(cpu[1]!) },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = await Runtime.create({ adapter: args.adapter });
  const stems = args.stem === 'both' ? (['torchvision', 'cifar'] as const) : [args.stem];
  const convs = stems.flatMap((st) => resnet18ConvShapes(st, args.batch, 1, args.width)).filter((c) => !args.only || c.name.includes(args.only));
  const rows: Row[] = [];
  await withEnvRestored([args.a, args.b], async () => {
    for (const c of convs) {
      const r = await measure(rt, args, c);
      rows.push(r);
      console.log(`${c.stem} ${c.name}: A ${(r.a.wall * 1e3).toFixed(1)} ms (${(r.gflop / r.a.wall).toFixed(2)} GFLOP/s), B ${(r.b.wall * 1e3).toFixed(1)} ms (${(r.gflop / r.b.wall).toFixed(2)} GFLOP/s): B ×${(r.a.wall / r.b.wall).toFixed(2)} wall, ×${(r.a.cpu / r.b.cpu).toFixed(2)} cpu`);
    }
  });
  const stepSums = stems.map((st) => {
    const of = rows.filter((r) => r.conv.stem === st);
    const a = of.reduce((s, r) => s + r.conv.count * r.a.wall, 0);
    const b = of.reduce((s, r) => s + r.conv.count * r.b.wall, 0);
    return `${st} stem: A ${a.toFixed(2)} s, B ${b.toFixed(2)} s, B ×${(a / b).toFixed(2)}`;
  });
  const info = rt.gpu.info;
  const lines = [
    `# conv2d ${args.pass} A/B — ${info.kind}`,
    '',
    `Adapter: ${info.name} (${info.kind}); batch ${args.batch}, width ${args.width}; ${args.reps} rep(s) per side, interleaved A/B after one untimed call each; ${new Date().toISOString().slice(0, 10)}.`,
    `A: ${describeEnv(args.a)}. B: ${describeEnv(args.b)}.`,
    `Command: \`npm run bench:conv-ab -- ${process.argv.slice(2).join(' ')}\``,
    '',
    '| stem | conv | Ci→Co | k | s | in | count | A ms | B ms | A GFLOP/s | B GFLOP/s | B speed-up (wall) | B speed-up (CPU s) |',
    '|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const s = r.conv.shape;
      return `| ${r.conv.stem} | ${r.conv.name} | ${s.Ci}→${s.Co} | ${s.KH}×${s.KW} | ${s.stride} | ${s.H} | ${r.conv.count} | ${(r.a.wall * 1e3).toFixed(1)} | ${(r.b.wall * 1e3).toFixed(1)} | ` +
        `${(r.gflop / r.a.wall).toFixed(2)} | ${(r.gflop / r.b.wall).toFixed(2)} | ×${(r.a.wall / r.b.wall).toFixed(2)} | ×${(r.a.cpu / r.b.cpu).toFixed(2)} |`;
    }),
    '',
    `Summed over one training step (each shape × its count in ResNet18): ${stepSums.join('; ')}.`,
    '',
  ];
  const md = lines.join('\n');
  writeResult(md, args.name ? `conv-ab-${args.name}-${info.kind}.md` : null);
  rt.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
