// `wgml train`: the training product. Logic lives in src/train; this file parses options,
// draws progress, handles Ctrl-C and prints the summary.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { train, type TrainResult } from '../train/trainer.js';
import { PAPER_DEFAULTS, SYNTHETIC_CPU_DEFAULTS, validateConfig, configFields, type TrainConfig } from '../train/config.js';
import { parseMethod } from '../backmix/methods.js';
import { globalOptions } from './options.js';
import { createProgress } from './progress.js';

interface TrainCliOptions {
  data?: string;
  ood?: string;
  method?: string;
  fraction?: string;
  lambda?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  seed?: string;
  modelWidth?: string;
  stem?: string;
  imageSize?: string;
  out?: string;
  config?: string;
  resume?: boolean;
  maskSubset?: string;
  maskOffset?: string;
  valWindow?: string;
  cutmixProb?: string;
  skipBad?: boolean;
  synthN?: string;
  focus?: boolean;
  json?: boolean;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: expected a number, got '${v}'`);
  return n;
}


/** A config file: JSON, or flat `key: value` YAML (one level, scalars) — all a run needs. */
function readConfigFile(path: string): Partial<TrainConfig> {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) return configFields(path, JSON.parse(text) as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  text.split('\n').forEach((line, i) => {
    const t = line.replace(/#.*$/, '').trim();
    if (!t) return;
    const m = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(t);
    if (!m) throw new Error(`${path}:${i + 1}: expected 'key: value', got '${line.trim()}'`);
    const key = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const raw = m[2]!.replace(/^["']|["']$/g, '');
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  });
  return configFields(path, out);
}

export function buildTrainConfig(o: TrainCliOptions): TrainConfig {
  const file = o.config ? readConfigFile(o.config) : {};
  const data = o.data ?? file.data;
  const base = { ...PAPER_DEFAULTS, ...(data ? {} : SYNTHETIC_CPU_DEFAULTS), ...file };
  const method = String(o.method ?? base.method);
  // wBackMix is BackMix with per-example loss weights (λ > 0); λ = 1 unless given.
  const weighted = method.toLowerCase() === 'wbackmix';
  const c: TrainConfig = {
    ...base,
    data,
    ood: o.ood ?? base.ood,
    method: weighted ? 'backmix' : cliOption('method', () => parseMethod(method)),
    fraction: num('fraction', o.fraction) ?? base.fraction,
    lambda: num('lambda', o.lambda) ?? (weighted ? 1 : base.lambda),
    epochs: num('epochs', o.epochs) ?? base.epochs,
    batch: num('batch', o.batch) ?? base.batch,
    lr: num('lr', o.lr) ?? base.lr,
    seed: num('seed', o.seed) ?? base.seed,
    width: num('model-width', o.modelWidth) ?? base.width,
    stem: (o.stem ?? base.stem) as TrainConfig['stem'],
    imageSize: num('image-size', o.imageSize) ?? base.imageSize,
    out: o.out ?? base.out ?? `runs/${method}-seed${num('seed', o.seed) ?? base.seed}`,
    maskSubset: (o.maskSubset ?? base.maskSubset) as TrainConfig['maskSubset'],
    maskOffset: num('mask-offset', o.maskOffset) ?? base.maskOffset,
    valWindow: num('val-window', o.valWindow) ?? base.valWindow,
    cutmixProb: num('cutmix-prob', o.cutmixProb) ?? base.cutmixProb,
    skipBad: o.skipBad ?? base.skipBad,
    synthN: num('synth-n', o.synthN) ?? base.synthN,
    focus: o.focus ?? base.focus,
  };
  if (c.stem !== 'cifar' && c.stem !== 'imagenet') throw new Error(`--stem: expected cifar or imagenet, got '${c.stem}'`);
  if (c.maskSubset !== 'stride' && c.maskSubset !== 'random') throw new Error(`--mask-subset: expected stride or random, got '${c.maskSubset}'`);
  // Range checks here too, so a bad value fails before any data is read or a device opened.
  validateConfig(c);
  return c;
}

/** Runs `f`, prefixing its error with the option it came from. */
function cliOption<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`--${name}: ${(e as Error).message}`);
  }
}

function pct(v: number | null): string {
  return v === null || Number.isNaN(v) ? '   –  ' : `${v.toFixed(1).padStart(5)}%`;
}

export function formatTrainSummary(r: TrainResult): string {
  const lines = [
    `trained ${r.epochsRun} epoch(s) in ${r.seconds.toFixed(1)} s (${r.imagesPerSec.toFixed(1)} images/s); best val acc ${(r.bestValAcc * 100).toFixed(1)}% at epoch ${r.bestEpoch}`,
    `checkpoints: ${r.out}/best.safetensors, ${r.out}/last.safetensors; metrics: ${r.out}/metrics.jsonl; results: ${r.out}/results.json`,
  ];
  if (r.final.length) {
    lines.push('split                n   accuracy  macro-F1     %E      %F');
    for (const s of r.final) {
      lines.push(`${s.split.padEnd(16)} ${String(s.n).padStart(5)}   ${pct(s.accuracy * 100)}    ${pct(s.macroF1 * 100)}  ${pct(s.percentE)}  ${pct(s.percentF)}`);
    }
  }
  return lines.join('\n');
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a ResNet18 view classifier with BackMix (or a baseline); without --data, on the built-in synthetic benchmark')
    .option('--data <dir|csv>', 'dataset: manifest CSV, TMED-2 CSV, BackMix .npy layout or a directory with manifest.csv')
    .option('--ood <dir|csv>', 'an out-of-distribution dataset evaluated at the end')
    .option('--method <m>', 'backmix | wbackmix | none | black | noise | shuffle | bokeh | bokeh-blur | cutmix')
    .option('--fraction <f>', 'fraction of training samples with masks used for BackMix (paper: 1, 0.5, 0.05…)')
    .option('--lambda <λ>', 'wBackMix loss weighting strength (0 = plain BackMix)')
    .option('--epochs <n>', 'epochs (paper: 100; synthetic CPU default: 12)')
    .option('--batch <n>', 'batch size (paper: 64; synthetic CPU default: 32)')
    .option('--lr <lr>', 'Adam learning rate (paper: 1e-3)')
    .option('--seed <n>', 'seed for init, shuffling and augmentation')
    .option('--model-width <w>', 'ResNet18 base width (paper: 64; synthetic CPU default: 8)')
    .option('--stem <s>', 'cifar (BackMix reference) | imagenet (torchvision)')
    .option('--image-size <px>', 'input size (frames are resized)', undefined)
    .option('--out <dir>', 'run directory (default runs/<method>-seed<seed>)')
    .option('--config <file>', 'JSON or flat YAML file with any of these options (command line wins)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--mask-subset <mode>', 'stride (reference: every round(1/f)-th sample) | random')
    .option('--mask-offset <k>', 'stride mode: the k-th of the int(1/f) disjoint masked subsets (default 0, the reference\'s)')
    .option('--val-window <n>', 'best checkpoint = highest mean val accuracy over n consecutive epochs (default 1, the paper\'s rule)')
    .option('--cutmix-prob <p>', 'CutMix probability per batch')
    .option('--skip-bad', 'skip unreadable or inconsistent records (reported) instead of failing')
    .option('--synth-n <n>', 'frames in the built-in synthetic benchmark')
    .option('--no-focus', 'skip GradCAM %E/%F in the final evaluation')
    .option('--json', 'print the final summary as JSON')
    .action(async (o: TrainCliOptions, cmd: Command) => {
      const config = buildTrainConfig(o);
      const progress = createProgress();
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        progress.line('interrupt: finishing this step; the last complete epoch\'s checkpoint stays in place (Ctrl-C again to abort)');
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await train(
          config,
          {
            onLog: (m) => progress.line(m),
            onEpochStart: (e, n, batches) => progress.start(`epoch ${e}/${n}`, batches),
            onStep: (s) => progress.update(s.batch, { loss: s.loss.toFixed(4), acc: `${(s.acc * 100).toFixed(1)}%`, 'img/s': s.imagesPerSec.toFixed(1) }),
            onEpochEnd: (m) => {
              progress.stop();
              progress.line(
                `epoch ${m.epoch}: train loss ${m.train_loss.toFixed(4)} acc ${(m.train_acc * 100).toFixed(1)}%` +
                  (m.val_acc !== null ? `  val loss ${m.val_loss!.toFixed(4)} acc ${(m.val_acc * 100).toFixed(1)}%` : '') +
                  `  ${m.images_per_sec.toFixed(1)} img/s  ${m.seconds.toFixed(1)} s${m.best ? '  (best)' : ''}`,
              );
            },
            shouldStop: () => stop,
          },
          { adapter: globalOptions(cmd).adapter, resume: !!o.resume },
        );
        progress.stop();
        if (result.stopped) progress.line('stopped by Ctrl-C; resume with --resume');
        console.log(o.json ? JSON.stringify({ ...result, final: result.final.map(({ evaluation, ...r }) => r) }, null, 2) : formatTrainSummary(result));
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
