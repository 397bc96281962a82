// The training loop: GPU augmentation (BackMix or a baseline) → ResNet18 → weighted CE →
// backward → Adam, one small readback per step; validation each epoch; best and last
// checkpoints written atomically; metrics.jsonl per epoch; resumable bit-for-bit.
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../nn/atomic_write.js';
import { join, resolve, dirname } from 'node:path';
import { Runtime } from '../kernels/runtime.js';
import { loadDataset, splitIndices, synthesize, isCurrentSynthOutput, type Dataset } from '../data/index.js';
import { createAugmenter, type Augmenter } from '../backmix/augment.js';
import { GpuDataset } from '../backmix/gpu_dataset.js';
import { ResNet18 } from '../nn/resnet18.js';
import { Adam } from '../nn/adam.js';
import { InitRng } from '../nn/init.js';
import { scope } from '../nn/tensor.js';
import { trainStep, augmentedInputs } from './step.js';
import { evaluateModel, type EvaluationResult } from './evaluate.js';
import { saveCheckpoint, loadCheckpoint, type TrainingState } from './checkpoint.js';
import { validateConfig, type TrainConfig } from './config.js';
import { writeTrainingCurves, writeConfusionMatrix } from './plots.js';

export interface StepInfo {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  imagesPerSec: number;
}

export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  train_acc: number;
  val_loss: number | null;
  val_acc: number | null;
  images_per_sec: number;
  seconds: number;
  gpu_bytes_in_use: number;
  /** The most bytes held at once during the epoch (training steps and validation). */
  gpu_peak_bytes_in_use: number;
  /** What the pool holds after returning the buffers the epoch did not use. */
  gpu_bytes_allocated: number;
  /** The most bytes the pool owned at once during the epoch. */
  gpu_peak_bytes_allocated: number;
  /**
   * Seconds from the process's start to the end of this run's first training step (data
   * preparation and kernel compilation included); null on every later epoch.
   */
  first_step_seconds: number | null;
  best: boolean;
}

export interface TrainHooks {
  onLog?: (msg: string) => void;
  onEpochStart?: (epoch: number, epochs: number, batches: number) => void;
  onStep?: (s: StepInfo) => void;
  onEpochEnd?: (m: EpochMetrics) => void;
  onEvalProgress?: (what: string, done: number, total: number) => void;
  /** Polled between steps; true stops after the current step (Ctrl-C). */
  shouldStop?: () => boolean;
}

export interface SplitResult {
  split: string;
  n: number;
  accuracy: number;
  loss: number;
  macroF1: number;
  percentE: number | null;
  percentF: number | null;
  evaluation: EvaluationResult;
}

export interface TrainResult {
  out: string;
  epochsRun: number;
  stopped: boolean;
  bestEpoch: number;
  bestValAcc: number;
  seconds: number;
  imagesPerSec: number;
  final: SplitResult[];
}

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

function lastGood(epoch: number, out: string): string {
  return (epoch > 0 ? `The last good checkpoint (epoch ${epoch}) is intact in ${out}. ` : 'No epoch had completed, so no checkpoint was written. ') + 'Try a lower --lr.';
}

/** The name of the first model tensor (parameter or BatchNorm statistic) holding a NaN or ±Inf. */
async function firstNonFinite(model: ResNet18): Promise<string | null> {
  for (const { name, tensor } of model.namedTensors()) {
    const a = await tensor.toArray();
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return name;
  }
  return null;
}

function writeText(path: string, text: string): void {
  writeFileAtomicSync(path, new TextEncoder().encode(text));
}

/** The metrics lines of epochs 1..epoch of an interrupted run (later ones are redone). */
function resumedMetrics(path: string, epoch: number): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      return (JSON.parse(l) as { epoch: number }).epoch <= epoch;
    } catch {
      return false; // a torn line from a writer older than the atomic one
    }
  });
}

/** Where the built-in synthetic benchmark is generated (reused across runs with the same parameters). */
export function syntheticDir(c: TrainConfig): string {
  return resolve(dirname(resolve(c.out)), `synthetic-n${c.synthN}-seed${c.seed}-${c.imageSize}`);
}

async function prepareData(c: TrainConfig, log: (m: string) => void): Promise<{ ds: Dataset; source: string }> {
  let source = c.data;
  if (!source) {
    source = syntheticDir(c);
    const opts = { n: c.synthN, seed: c.seed, size: c.imageSize };
    // a benchmark left by an older generator version is redrawn, never silently reused
    if (!(await isCurrentSynthOutput(source, opts))) {
      log(`generating the synthetic echo benchmark (${c.synthN} frames) in ${source}`);
      await synthesize({ out: source, ...opts });
    }
  }
  const ds = await loadDataset(source, { size: c.imageSize, skipBad: c.skipBad, requireSplits: ['train'] });
  if (ds.skipped.length) log(`skipped ${ds.skipped.length} bad records (--skip-bad)`);
  return { ds, source };
}

function summarise(split: string, e: EvaluationResult): SplitResult {
  return {
    split,
    n: e.n,
    accuracy: e.report.accuracy,
    loss: e.loss,
    macroF1: e.report.macro.f1,
    // NaN (every CAM of the split was constant) becomes null, as results.json writes it.
    percentE: e.focus && Number.isFinite(e.focus.percentE) ? e.focus.percentE : null,
    percentF: e.focus && Number.isFinite(e.focus.percentF) ? e.focus.percentF : null,
    evaluation: e,
  };
}

export async function train(config: TrainConfig, hooks: TrainHooks = {}, opts: { adapter?: string; resume?: boolean } = {}): Promise<TrainResult> {
  validateConfig(config);
  const log = hooks.onLog ?? (() => {});
  const out = resolve(config.out);
  mkdirSync(out, { recursive: true });
  const rt = await Runtime.create({ adapter: opts.adapter });
  log(`adapter: ${rt.gpu.info.name} (${rt.gpu.info.kind})`);
  let data: GpuDataset | null = null;
  let aug: Augmenter | null = null;
  let model: ResNet18 | null = null;
  let opt: Adam | null = null;
  try {
    const { ds, source } = await prepareData(config, log);
    const trainIdx = splitIndices(ds, 'train');
    const splits = new Set(ds.samples.map((s) => s.split));
    const valIdx = splits.has('val') ? splitIndices(ds, 'val') : [];
    log(`data: ${source} — ${ds.samples.length} frames, classes ${ds.classes.join('/')}, train ${trainIdx.length}, val ${valIdx.length}`);
    data = new GpuDataset(rt, ds);
    aug = createAugmenter(rt, data, {
      method: config.method, fraction: config.fraction, lambda: config.lambda, seed: config.seed,
      maskSubset: config.maskSubset, maskOffset: config.maskOffset, pool: trainIdx, imageSize: config.imageSize, numClasses: ds.classes.length,
      cutmixProb: config.cutmixProb,
    });
    model = new ResNet18(rt, { inChannels: 1, numClasses: ds.classes.length, stem: config.stem, width: config.width }, config.seed);
    opt = new Adam(model.parameters(), { lr: config.lr });
    const shuffle = new InitRng(config.seed ^ 0x5eed);
    let state: TrainingState = {
      epoch: 0, adamStep: 0, bestValAcc: -1, bestEpoch: 0, rng: null, config, classes: ds.classes,
    };
    const metricsPath = join(out, 'metrics.jsonl');
    let metricLines: string[] = [];
    if (opts.resume) {
      state = await loadCheckpoint(out, 'last', model, opt);
      const r = state.rng as { shuffle: number[]; augment: ReturnType<Augmenter['getRngState']> };
      shuffle.setState(r.shuffle);
      aug.setRngState(r.augment);
      log(`resumed from ${join(out, 'last.safetensors')} after epoch ${state.epoch}`);
      metricLines = resumedMetrics(metricsPath, state.epoch);
    }
    writeText(metricsPath, metricLines.map((l) => l + '\n').join(''));
    writeText(join(out, 'config.json'), JSON.stringify({ ...config, data: source, classes: ds.classes }, null, 2));

    const K = ds.classes.length;
    const S = config.imageSize;
    const t0 = performance.now();
    let images = 0;
    let stopped = false;
    let epochsRun = 0;
    let firstStepSeconds: number | null = null;
    let epoch = state.epoch;
    for (epoch = state.epoch + 1; epoch <= config.epochs; epoch++) {
      const order = shuffle.shuffled(trainIdx);
      const batches = Math.ceil(order.length / config.batch);
      hooks.onEpochStart?.(epoch, config.epochs, batches);
      const e0 = performance.now();
      rt.pool.resetPeak();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * config.batch, (b + 1) * config.batch);
        const B = idx.length;
        const stats = await rt.step(() => scope(() => trainStep(model!, opt!, augmentedInputs(rt, aug!.augmentBatch(idx), S, K))));
        if (images === 0) {
          // performance.now() counts from the process's start in Node.
          firstStepSeconds = performance.now() / 1000;
          log(`first training step done ${firstStepSeconds.toFixed(1)} s after start`);
        }
        const loss = stats.loss;
        if (!Number.isFinite(loss)) {
          const ids = idx.map((i) => ds.samples[i]!.id);
          throw new TrainingDivergedError(
            `loss became ${loss} at epoch ${epoch}, step ${b + 1}/${batches}; batch samples: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ' …' : ''}. ` +
              lastGood(state.epoch, out),
          );
        }
        lossSum += loss * B;
        correct += stats.correct;
        seen += B;
        images += B;
        const secs = (performance.now() - e0) / 1000;
        hooks.onStep?.({ epoch, epochs: config.epochs, batch: b + 1, batches, loss: lossSum / seen, acc: correct / seen, imagesPerSec: seen / secs });
        if (hooks.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      const trainSecs = (performance.now() - e0) / 1000;
      // The loss alone misses some divergence: BatchNorm's running statistics never reach the
      // training loss (it normalises with batch statistics). Never checkpoint a non-finite tensor.
      const bad = await firstNonFinite(model);
      if (bad) {
        throw new TrainingDivergedError(
          `${bad} became non-finite during epoch ${epoch} (the loss stayed finite: ${lossSum / seen}). ` + lastGood(state.epoch, out),
        );
      }
      let val: EvaluationResult | null = null;
      if (valIdx.length) {
        val = await evaluateModel(model, data, valIdx, {
          batch: config.batch, focus: false, onBatch: (d, t) => hooks.onEvalProgress?.('val', d, t),
        });
      }
      const valAcc = val ? val.report.accuracy : correct / seen;
      // valWindow 1 is the reference's rule; a longer window keeps a small validation split's
      // epoch-to-epoch noise from choosing the checkpoint. Ties go to the later epoch, as the
      // reference keeps the last best.
      const valHistory = [...(state.valHistory ?? []), valAcc].slice(-config.valWindow);
      const score = valHistory.reduce((a, b) => a + b, 0) / valHistory.length;
      const best = score >= state.bestValAcc;
      state = {
        ...state,
        epoch,
        adamStep: opt.step,
        bestValAcc: best ? score : state.bestValAcc,
        valHistory,
        bestEpoch: best ? epoch : state.bestEpoch,
        rng: { shuffle: shuffle.getState(), augment: aug.getRngState() },
      };
      rt.pool.trimIdle();
      const pool = rt.pool.stats();
      const m: EpochMetrics = {
        epoch,
        train_loss: lossSum / seen,
        train_acc: correct / seen,
        val_loss: val ? val.loss : null,
        val_acc: val ? val.report.accuracy : null,
        images_per_sec: seen / trainSecs,
        seconds: (performance.now() - e0) / 1000,
        gpu_bytes_in_use: pool.bytesInUse,
        gpu_peak_bytes_in_use: pool.peakBytesInUse,
        gpu_bytes_allocated: pool.bytesAllocated,
        gpu_peak_bytes_allocated: pool.peakBytesAllocated,
        first_step_seconds: epochsRun === 0 ? firstStepSeconds : null,
        best,
      };
      // The epoch's line lands before its checkpoints: a run killed in between resumes from the
      // previous checkpoint, and the resumed run drops the line of the epoch it redoes.
      metricLines.push(JSON.stringify(m));
      writeText(metricsPath, metricLines.map((l) => l + '\n').join(''));
      if (best) await saveCheckpoint(out, 'best', model, opt, state);
      await saveCheckpoint(out, 'last', model, opt, state);
      epochsRun++;
      await writeTrainingCurves(out);
      hooks.onEpochEnd?.(m);
    }
    const seconds = (performance.now() - t0) / 1000;

    const final: SplitResult[] = [];
    if (!stopped && state.epoch > 0) {
      // Final numbers come from the best-validation checkpoint, as in the reference.
      await loadCheckpoint(out, 'best', model, opt);
      for (const split of ['test', 'ood-test']) {
        if (!splits.has(split)) continue;
        const e = await evaluateModel(model, data, splitIndices(ds, split), {
          batch: config.batch, focus: config.focus, onBatch: (d, t) => hooks.onEvalProgress?.(split, d, t),
        });
        final.push(summarise(split, e));
      }
      if (config.ood) {
        const ood = await loadDataset(config.ood, { size: config.imageSize, skipBad: config.skipBad, classes: ds.classes });
        const oodData = new GpuDataset(rt, ood);
        try {
          const osplits = new Set(ood.samples.map((s) => s.split));
          const idx = osplits.has('test') ? splitIndices(ood, 'test') : ood.samples.map((_, i) => i);
          const e = await evaluateModel(model, oodData, idx, { batch: config.batch, focus: config.focus, onBatch: (d, t) => hooks.onEvalProgress?.('ood', d, t) });
          final.push(summarise(`ood:${config.ood}`, e));
        } finally {
          oodData.dispose();
        }
      }
      for (const f of final) {
        const name = f.split.replace(/[^\w.-]+/g, '_');
        await writeConfusionMatrix(join(out, `confusion_${name}`), f.evaluation.report.confusion, f.evaluation.report.classes, `${f.split} (best epoch ${state.bestEpoch})`);
      }
      writeText(join(out, 'results.json'), JSON.stringify({
        config: { ...config, data: source },
        bestEpoch: state.bestEpoch,
        bestValAcc: state.bestValAcc,
        seconds,
        imagesPerSec: images / seconds,
        splits: final.map(({ evaluation, ...r }) => ({ ...r, report: evaluation.report, focus: evaluation.focus, focusUnavailable: evaluation.focusUnavailable })),
      }, null, 2));
    }
    return {
      out, epochsRun, stopped, bestEpoch: state.bestEpoch, bestValAcc: state.bestValAcc,
      seconds, imagesPerSec: images / Math.max(seconds, 1e-9), final,
    };
  } finally {
    opt?.dispose();
    model?.dispose();
    aug?.dispose();
    data?.dispose();
    rt.destroy();
  }
}
