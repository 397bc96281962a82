// Where a training step's GPU time goes: every dispatch of the step in its own pass with
// timestamp queries (src/kernels/dispatch_profiler.ts), summed by kernel label and by kind.
//
//   npm run bench:step-profile -- [--adapter swiftshader] [--stem torchvision|cifar] [--width 64]
//        [--batch 16] [--size 112] [--steps 2] [--top 40] [--name X]
//
// The step is the one bench/step_ab.ts times (forward, weighted cross-entropy, backward, Adam
// through Runtime.step), after four unprofiled warm-up steps. A pass per dispatch makes the step
// a little slower, so read the shares, not the absolute times. Writes
// bench/results/step-profile-<name>-<adapter>.md when --name is given.
import { Runtime } from '../src/index.js';
import { fixedTrainingStep, stepShapeFlag, stepShapeErrors, DEFAULT_STEP_SHAPE, type StepShape } from './step_fixture.js';
import { DispatchProfiler, type KernelTime } from '../src/kernels/dispatch_profiler.js';
import { flagValue, writeResult } from './args.js';

interface Args extends StepShape {
  adapter?: string;
  steps: number;
  /** Kernels listed in the by-kernel table. */
  top: number;
  name?: string;
}

const WARM_UP = 4;

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = { ...DEFAULT_STEP_SHAPE, steps: 2, top: 40 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => flagValue(argv, i++);
    if (stepShapeFlag(out, k, next)) continue;
    if (k === '--adapter') out.adapter = next();
    else if (k === '--steps') out.steps = Number(next());
    else if (k === '--top') out.top = Number(next());
    else if (k === '--name') out.name = next();
    else throw new Error(`unknown option ${k}`);
  }
  const errors = stepShapeErrors(out);
  if (!(Number.isInteger(out.steps) && out.steps! > 0)) errors.push('--steps must be a positive integer');
  if (!(Number.isInteger(out.top) && out.top! > 0)) errors.push('--top must be a positive integer');
  if (errors.length) throw new Error(errors.join('\n'));
  return out as Args;
}

/** A label without its shape ("conv2d forward 64->64 k3x3 s1 @28x28" → "conv2d forward"). */
function kindOf(label: string): string {
  return label.replace(/\s\d+(->|<-)\d+ k\d+x\d+ s\d+ @\d+x\d+/, '').replace(/\s(phase \d+,\d+|phase \d+)$/, '').replace(/[\s_]*\d+(x\d+)*$/, '');
}

function table(rows: [string, KernelTime][], total: number, steps: number, head: string): string[] {
  return [
    `| ${head} | dispatches per step | ms per step | share |`,
    '|---|---:|---:|---:|',
    ...rows.map(([k, t]) => `| ${k} | ${(t.count / steps).toFixed(0)} | ${(t.ms / steps).toFixed(1)} | ${((100 * t.ms) / total).toFixed(1)}% |`),
  ];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = await Runtime.create({ adapter: args.adapter });
  const { batch: B, size: S } = args;
  const one = fixedTrainingStep(rt, args);
  const step = () => rt.step(one);
  // Unprofiled steps first: the first compiles, the pool's step plan is packed after the second
  // and created in the third, and the fourth touches its buffers for the first time (1.5× a
  // steady step on lavapipe), so the profiled steps start at the fifth.
  for (let i = 0; i < WARM_UP; i++) await step();
  await rt.finish();
  const profiler = new DispatchProfiler(rt.device);
  rt.encoder.profiler = profiler;
  const t0 = performance.now();
  for (let i = 0; i < args.steps; i++) await step();
  await rt.finish();
  const wallMs = (performance.now() - t0) / args.steps;
  rt.encoder.profiler = null;
  const times = await profiler.collect();
  profiler.destroy();
  const total = [...times.values()].reduce((s, t) => s + t.ms, 0);
  const byLabel = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kinds = new Map<string, KernelTime>();
  for (const [label, t] of times) {
    const k = kinds.get(kindOf(label)) ?? { ms: 0, count: 0 };
    k.ms += t.ms;
    k.count += t.count;
    kinds.set(kindOf(label), k);
  }
  const byKind = [...kinds.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const info = rt.gpu.info;
  const md = [
    `# Training step profile — ${info.kind}`,
    '',
    `Adapter: ${info.name} (${info.kind}); ${args.stem} stem, width ${args.width}, batch ${B}, 1×${S}×${S}; ${args.steps} profiled step(s) after ${WARM_UP} warm-up steps; ${new Date().toISOString().slice(0, 10)}.`,
    `Command: \`npm run bench:step-profile -- ${process.argv.slice(2).join(' ')}\``,
    '',
    `GPU time of the dispatches: ${(total / args.steps).toFixed(0)} ms per step; wall time of a profiled step: ${wallMs.toFixed(0)} ms.`,
    '',
    '## By kind',
    '',
    ...table(byKind, total, args.steps, 'kind'),
    '',
    `## By kernel (top ${args.top})`,
    '',
    ...table(byLabel.slice(0, args.top), total, args.steps, 'kernel'),
    '',
  ].join('\n');
  writeResult(md, args.name ? `step-profile-${args.name}-${info.kind}.md` : null);
  rt.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
