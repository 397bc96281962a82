// The library surface behind `wgml eval` and `wgml predict`: each takes plain options and
// returns plain data, so the CLI is a thin printer and everything is testable in-process.
import { loadDataset, splitIndices } from '../data/index.js';
import { Tensor, scope } from '../nn/tensor.js';
import { noGrad } from '../nn/tape.js';
import { evaluateModel, type EvaluationResult } from './evaluate.js';
import { openCheckpoint, imagesAsDataset, toModelInput } from './inference.js';
import { GpuDataset } from '../backmix/gpu_dataset.js';
import { meanStd } from './metrics.js';
import type { FocusSummary } from '../kernels/focus_metrics.js';

export interface EvaluateCheckpointOptions {
  checkpoint: string;
  data: string;
  /** A split name, or 'all' (default 'test'). */
  split?: string;
  adapter?: string;
  classes?: string[];
  batch?: number;
  focus?: boolean;
  target?: 'pred' | 'true';
  imageSize?: number;
  skipBad?: boolean;
  onBatch?: (done: number, total: number) => void;
}

export interface CheckpointEvaluation {
  checkpoint: string;
  data: string;
  split: string;
  classes: string[];
  result: EvaluationResult;
}

export async function evaluateCheckpoint(o: EvaluateCheckpointOptions): Promise<CheckpointEvaluation> {
  const ck = await openCheckpoint(o.checkpoint, { adapter: o.adapter, classes: o.classes });
  try {
    const ds = await loadDataset(o.data, { size: o.imageSize ?? ck.imageSize ?? 112, skipBad: o.skipBad, classes: ck.classes });
    const split = o.split ?? 'test';
    const indices = split === 'all' ? ds.samples.map((_, i) => i) : splitIndices(ds, split);
    const data = new GpuDataset(ck.rt, ds);
    try {
      const result = await evaluateModel(ck.model, data, indices, {
        batch: o.batch ?? 32, focus: o.focus ?? true, target: o.target, onBatch: o.onBatch, toInput: (x) => toModelInput(ck, x),
      });
      return { checkpoint: o.checkpoint, data: o.data, split, classes: ck.classes, result };
    } finally {
      data.dispose();
    }
  } finally {
    ck.close();
  }
}

export interface SeedAggregate {
  runs: number;
  accuracy: { mean: number; std: number };
  macroF1: { mean: number; std: number };
  weightedF1: { mean: number; std: number };
  percentE: { mean: number; std: number } | null;
  percentF: { mean: number; std: number } | null;
}

/** Mean ± sample std over runs (e.g. three seeds), as the paper reports. */
export function aggregateEvaluations(evals: CheckpointEvaluation[]): SeedAggregate {
  const pick = (f: (e: EvaluationResult) => number) => meanStd(evals.map((e) => f(e.result)));
  // %E (or %F) over runs only when every run has it: no masks gives focus null, and a run whose
  // every CAM was constant has NaN — averaging either would print 'NaN ± NaN'.
  const focusOf = (f: (s: FocusSummary) => number) =>
    evals.every((e) => e.result.focus && Number.isFinite(f(e.result.focus))) ? pick((r) => f(r.focus!)) : null;
  return {
    runs: evals.length,
    accuracy: pick((r) => r.report.accuracy * 100),
    macroF1: pick((r) => r.report.macro.f1 * 100),
    weightedF1: pick((r) => r.report.weighted.f1 * 100),
    percentE: focusOf((f) => f.percentE),
    percentF: focusOf((f) => f.percentF),
  };
}

export interface Prediction {
  file: string;
  view: string;
  probabilities: Record<string, number>;
  logits: number[];
}

export interface PredictOptions {
  checkpoint: string;
  images: string[];
  adapter?: string;
  classes?: string[];
  imageSize?: number;
  batch?: number;
}

export async function predict(o: PredictOptions): Promise<Prediction[]> {
  if (o.images.length === 0) throw new Error('predict: no images given');
  const ck = await openCheckpoint(o.checkpoint, { adapter: o.adapter, classes: o.classes });
  try {
    const ds = await imagesAsDataset(o.images, o.imageSize ?? ck.imageSize ?? 112, ck.classes);
    const data = new GpuDataset(ck.rt, ds);
    const K = ck.classes.length;
    const out: Prediction[] = [];
    const batch = o.batch ?? 32;
    try {
      for (let start = 0; start < o.images.length; start += batch) {
        const idx = Array.from({ length: Math.min(batch, o.images.length - start) }, (_, i) => start + i);
        const logits = await scope(async () => {
          const pre = data.preprocess(idx);
          const x = new Tensor(ck.rt, [idx.length, 1, ds.size, ds.size], pre.x, 'f32', false, 'predict.x');
          const y = await noGrad(() => ck.model.forward(toModelInput(ck, x)));
          return y.toArray();
        });
        idx.forEach((i, r) => {
          const row = Array.from(logits.subarray(r * K, (r + 1) * K));
          const max = Math.max(...row);
          const exps = row.map((v) => Math.exp(v - max));
          const sum = exps.reduce((a, b) => a + b, 0);
          const probabilities = Object.fromEntries(ck.classes.map((c, k) => [c, exps[k]! / sum]));
          const best = row.indexOf(max);
          out.push({ file: o.images[i]!, view: ck.classes[best]!, probabilities, logits: row });
        });
      }
    } finally {
      data.dispose();
    }
    return out;
  } finally {
    ck.close();
  }
}
