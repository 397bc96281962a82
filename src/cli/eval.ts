// `wgml eval`: metrics of a checkpoint on a dataset split, or mean ± std over several runs.
import type { Command } from 'commander';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateCheckpoint, aggregateEvaluations, type CheckpointEvaluation } from '../train/api.js';
import { writeFileAtomic } from '../nn/atomic_write.js';
import { globalOptions, IMAGE_SIZE_HELP, optionalPositiveInt } from './options.js';
import { createProgress } from './progress.js';
import { evaluationMarkdown, aggregateMarkdown } from './report.js';

interface EvalCli {
  checkpoint?: string;
  data: string;
  split: string;
  seeds?: string[];
  classes?: string;
  batch: string;
  imageSize?: string;
  target: string;
  focus: boolean;
  skipBad?: boolean;
  out?: string;
  json?: boolean;
}

/** A run directory stands for its best checkpoint. */
function checkpointOf(p: string): string {
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, 'best.safetensors');
  return p;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('accuracy, per-class and averaged precision/recall/F1, confusion matrix and GradCAM %E/%F of a checkpoint')
    .option('--checkpoint <file|run-dir>', 'a safetensors ResNet18 (wgml or torchvision names), or a run directory (its best.safetensors)')
    .requiredOption('--data <dir|csv>', 'dataset to evaluate')
    .option('--split <name>', 'test | ood-test | val | train | all', 'test')
    .option('--seeds <runs...>', 'several run directories or checkpoints: report mean ± std across them')
    .option('--classes <a,b,…>', 'class names in output order (when the checkpoint has none)')
    .option('--batch <n>', 'batch size', '32')
    .option('--image-size <px>', IMAGE_SIZE_HELP)
    .option('--target <t>', 'GradCAM target: pred | true', 'pred')
    .option('--no-focus', 'skip GradCAM %E/%F')
    .option('--skip-bad', 'skip bad dataset records instead of failing')
    .option('--out <dir>', 'also write report.json and report.md here')
    .option('--json', 'print JSON')
    .action(async (o: EvalCli, cmd: Command) => {
      const runs = o.seeds ?? (o.checkpoint ? [o.checkpoint] : []);
      if (runs.length === 0) throw new Error('give --checkpoint FILE or --seeds RUN1 RUN2 …');
      if (o.target !== 'pred' && o.target !== 'true') throw new Error(`--target: expected pred or true, got '${o.target}'`);
      const progress = createProgress();
      const evals: CheckpointEvaluation[] = [];
      for (const run of runs) {
        const checkpoint = checkpointOf(run);
        progress.start(`eval ${checkpoint}`, 1);
        evals.push(
          await evaluateCheckpoint({
            checkpoint, data: o.data, split: o.split, adapter: globalOptions(cmd).adapter,
            classes: o.classes?.split(',').map((s) => s.trim()), batch: Number(o.batch), imageSize: optionalPositiveInt('image-size', o.imageSize),
            focus: o.focus, target: o.target as 'pred' | 'true', skipBad: o.skipBad,
            onBatch: (d, t) => {
              progress.start(`eval ${checkpoint}`, t);
              progress.update(d);
            },
          }),
        );
        progress.stop();
      }
      const agg = evals.length > 1 ? aggregateEvaluations(evals) : null;
      const json = {
        evaluations: evals.map((e) => ({ checkpoint: e.checkpoint, data: e.data, split: e.split, n: e.result.n, loss: e.result.loss, report: e.result.report, focus: e.result.focus, focusUnavailable: e.result.focusUnavailable })),
        aggregate: agg,
      };
      const md = evals.map(evaluationMarkdown).join('\n') + (agg ? '\n' + aggregateMarkdown(agg, o.split) : '');
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        await writeFileAtomic(join(o.out, 'report.json'), new TextEncoder().encode(JSON.stringify(json, null, 2)));
        await writeFileAtomic(join(o.out, 'report.md'), new TextEncoder().encode(md));
      }
      console.log(o.json ? JSON.stringify(json, null, 2) : md);
    });
}
