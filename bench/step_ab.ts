// A/B benchmark for the whole training step under two settings of the WGML_* kernel overrides,
// in one process, interleaved step by step (A, B, A, B, …) so both sides see the same machine
// load — on a shared 2-core machine, step times of separate runs move by ±40 %:
//
//   npx tsx bench/step_ab.ts --a WGML_CONV_DW=FLAT=0,U=1 --b WGML_CONV_DW= \
//        [--adapter lavapipe] [--stem torchvision|cifar] [--width 64] [--batch 16] [--size 112] [--reps 5]
//        [--unplanned a|b] [--name X]
//
// Each step is forward, weighted cross-entropy, backward and Adam on fixed data, run through
// Runtime.step as the trainer runs it (--unplanned: that side's steps are not, so the two sides
// compare the pool's step plan with its free lists). Two untimed steps per side first (compile, the pool's step plan).
// Writes bench/results/step-ab-<name>-<adapter>.md when --name is given.
import { Runtime } from '../src/index.js';
import { median } from '../src/bench/timing.js';
import { fixedTrainingStep, stepShapeFlag, stepShapeErrors, DEFAULT_STEP_SHAPE, type StepShape } from './step_fixture.js';
import { flagValue, envSetting, applyEnv, describeEnv, withEnvRestored, writeResult, type EnvSetting } from './args.js';

interface Args extends StepShape {
  adapter?: string;
  a: EnvSetting;
  b: EnvSetting;
  reps: number;
  unplanned?: 'a' | 'b';
  name?: string;
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> = { ...DEFAULT_STEP_SHAPE, reps: 5 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const next = () => flagValue(argv, i++);
    if (stepShapeFlag(out, k, next)) continue;
    if (k === '--adapter') out.adapter = next();
    else if (k === '--a') out.a = envSetting(next(), '--a');
    else if (k === '--b') out.b = envSetting(next(), '--b');
    else if (k === '--reps') out.reps = Number(next());
    else if (k === '--unplanned') out.unplanned = next() as Args['unplanned'];
    else if (k === '--name') out.name = next();
    else throw new Error(`unknown option ${k}`);
  }
  const errors = stepShapeErrors(out);
  if (!out.a) errors.push('--a WGML_NAME=VALUE is required');
  if (!out.b) errors.push('--b WGML_NAME=VALUE is required');
  if (out.unplanned !== undefined && !['a', 'b'].includes(out.unplanned)) errors.push('--unplanned must be a or b');
  if (!(Number.isInteger(out.reps) && out.reps! > 0)) errors.push('--reps must be a positive integer');
  if (errors.length) throw new Error(errors.join('\n'));
  return out as Args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = await Runtime.create({ adapter: args.adapter });
  const { batch: B, size: S } = args;
  const one = fixedTrainingStep(rt, args);
  const step = (side: number) => ('ab'[side] === args.unplanned ? one() : rt.step(one));
  const sides = [args.a, args.b] as const;
  const wall: number[][] = [[], []];
  await withEnvRestored([args.a, args.b], async () => {
    // Two untimed steps per side: the pool's step plan is created in the third step of the
    // process and its buffers are first touched in the fourth (1.5× a steady step on lavapipe).
    for (let rep = -2; rep < args.reps; rep++) {
      for (let side = 0; side < 2; side++) {
        applyEnv(sides[side]!);
        const t0 = performance.now();
        await step(side);
        if (rep >= 0) wall[side]!.push(performance.now() - t0);
        console.log(`${rep < 0 ? 'warm-up' : `rep ${rep + 1}`} ${'AB'[side]}: ${(performance.now() - t0).toFixed(0)} ms`);
      }
    }
  });
  const [a, b] = [median(wall[0]!), median(wall[1]!)];
  const info = rt.gpu.info;
  const md = [
    `# Training step A/B — ${info.kind}`,
    '',
    `Adapter: ${info.name} (${info.kind}); ${args.stem} stem, width ${args.width}, batch ${B}, 1×${S}×${S}; ${args.reps} step(s) per side, interleaved after two untimed steps each; ${new Date().toISOString().slice(0, 10)}.`,
    `A: ${describeEnv(args.a)}${args.unplanned === 'a' ? ', steps not through Runtime.step' : ''}. B: ${describeEnv(args.b)}${args.unplanned === 'b' ? ', steps not through Runtime.step' : ''}.`,
    `Command: \`npx tsx bench/step_ab.ts ${process.argv.slice(2).join(' ')}\``,
    '',
    '| side | steps (ms) | median (ms) | images/s |',
    '|---|---|---:|---:|',
    `| A | ${wall[0]!.map((t) => t.toFixed(0)).join(', ')} | ${a.toFixed(1)} | ${((B * 1000) / a).toFixed(2)} |`,
    `| B | ${wall[1]!.map((t) => t.toFixed(0)).join(', ')} | ${b.toFixed(1)} | ${((B * 1000) / b).toFixed(2)} |`,
    '',
    `B speed-up: ×${(a / b).toFixed(2)}.`,
    '',
  ].join('\n');
  writeResult(md, args.name ? `step-ab-${args.name}-${info.kind}.md` : null);
  rt.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
