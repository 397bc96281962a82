// Evaluation of a model on dataset indices: loss, accuracy, per-class and averaged
// precision/recall/F1, the confusion matrix, and GradCAM focus metrics %E/%F — all computed on
// the GPU; per batch only the predictions (B u32) come back, and the loss and focus totals once.
import type { GpuDataset } from '../backmix/gpu_dataset.js';
import type { ResNet18 } from '../nn/resnet18.js';
import { Tensor, scope } from '../nn/tensor.js';
import { noGrad } from '../nn/tape.js';
import { crossEntropyLoss } from '../nn/ops/cross_entropy.js';
import { gradCamBatch } from '../nn/gradcam.js';
import { fill } from '../kernels/elementwise.js';
import { focusMetrics, focusSummary, FOCUS_STATS_LENGTH, type FocusSummary } from '../kernels/focus_metrics.js';
import { classificationReport, confusionMatrix, type ClassificationReport } from './metrics.js';

export interface EvaluateOptions {
  batch?: number;
  /** Compute GradCAM %E/%F (needs masks). Default true. */
  focus?: boolean;
  /** GradCAM target: the predicted class (default) or the true label. */
  target?: 'pred' | 'true';
  onBatch?: (done: number, total: number) => void;
  /** Turns the preprocessed [B,1,S,S] input into the network's input (e.g. 3 channels for RGB models). */
  toInput?: (x: Tensor) => Tensor;
}

export interface EvaluationResult {
  n: number;
  loss: number;
  report: ClassificationReport;
  focus: FocusSummary | null;
  /** Why %E/%F are missing, when they are. */
  focusUnavailable?: string;
  predictions: Uint32Array;
  labels: Int32Array;
}

/** Evaluates `model` on the samples `indices` of `data` (preprocessed, never augmented). */
export async function evaluateModel(model: ResNet18, data: GpuDataset, indices: readonly number[], o: EvaluateOptions = {}): Promise<EvaluationResult> {
  const { rt, dataset: ds } = data;
  if (indices.length === 0) throw new Error('evaluate: no samples to evaluate');
  const batch = o.batch ?? 64;
  const K = ds.classes.length;
  const masked = indices.filter((i) => ds.samples[i]!.mask).length;
  let focusUnavailable: string | undefined;
  if (o.focus === false) focusUnavailable = 'not requested';
  else if (!ds.masks || masked === 0) focusUnavailable = 'no sector masks in this data';
  const withFocus = focusUnavailable === undefined;
  const wasTraining = model.training;
  model.eval();
  const S = data.size;
  const lossStats = Tensor.empty(rt, [4], 'eval.loss').keep();
  fill(rt, 4, lossStats.buffer, 0);
  const focusStats = Tensor.empty(rt, [FOCUS_STATS_LENGTH], 'eval.focus').keep();
  fill(rt, FOCUS_STATS_LENGTH, focusStats.buffer, 0);
  const preds = new Uint32Array(indices.length);
  const labels = new Int32Array(indices.length);
  try {
    for (let start = 0; start < indices.length; start += batch) {
      const idx = indices.slice(start, start + batch);
      const B = idx.length;
      await scope(async () => {
        const pre = data.preprocess(idx, { mask: withFocus });
        const x1 = new Tensor(rt, [B, 1, S, S], pre.x, 'f32', false, 'eval.x');
        const x = o.toInput ? o.toInput(x1) : x1;
        const mask = pre.mask ? new Tensor(rt, [B, S, S], pre.mask, 'f32', false, 'eval.mask') : null;
        const y = Tensor.fromArray(rt, Uint32Array.from(pre.labels), [B], 'eval.labels');
        let logits: Tensor;
        if (withFocus) {
          const target = o.target === 'true' ? y : 'pred';
          const cam = await gradCamBatch(model, x, target);
          logits = cam.logits;
          const include = Tensor.fromArray(rt, Uint32Array.from(idx, (i) => (ds.samples[i]!.mask ? 1 : 0)), [B], 'eval.include');
          focusMetrics(
            rt,
            { z: cam.z.buffer, mask: mask!.buffer, stats: focusStats.buffer, valid: cam.valid.buffer, include: include.buffer },
            { N: B, H: S, W: S, accumulate: true },
          );
        } else {
          logits = await noGrad(() => model.forward(x));
        }
        const { pred } = await noGrad(() => crossEntropyLoss(logits, { labels: y, accumulateInto: lossStats }));
        preds.set(await pred.toU32Array(), start);
        labels.set(pre.labels, start);
      });
      o.onBatch?.(Math.min(start + B, indices.length), indices.length);
    }
    const loss = await lossStats.toArray();
    const focus = withFocus ? focusSummary(await focusStats.toArray()) : null;
    const report = classificationReport(confusionMatrix(labels, preds, K), ds.classes);
    return { n: indices.length, loss: loss[1]! / indices.length, report, focus, focusUnavailable, predictions: preds, labels };
  } finally {
    lossStats.dispose();
    focusStats.dispose();
    model.train(wasTraining);
  }
}
