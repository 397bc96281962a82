// Weighted softmax cross-entropy, the wBackMix loss: loss = (1/N)·Σ w_i·CE_i. The kernel
// writes d(loss)/d(logits) in the same pass, so this op sets logits.grad directly instead of
// recording a node; the tape's backward then starts from there.
import { Tensor } from '../tensor.js';
import { isRecording, addGrad, expectShape } from '../tape.js';
import { crossEntropy as ceKernel } from '../../kernels/cross_entropy.js';

export interface CrossEntropyResult {
  /** f32 [4]: [loss, Σ w·CE, Σ CE, correct count] — read back once per step (or per epoch). */
  stats: Tensor;
  /** u32 [N] argmax per row. */
  pred: Tensor;
}

export interface CrossEntropyTargets {
  /** u32 [N] class indices. */
  labels?: Tensor;
  /** f32 [N,K] soft targets (CutMix). */
  soft?: Tensor;
  /** f32 [N] per-example weights; default all 1. */
  weights?: Tensor | null;
  /** Add this batch's stats into `stats` instead of overwriting. */
  accumulateInto?: Tensor;
}

export function crossEntropyLoss(logits: Tensor, t: CrossEntropyTargets): CrossEntropyResult {
  const [N, K] = logits.shape as [number, number];
  if (!t.labels === !t.soft) throw new Error('crossEntropyLoss: give exactly one of labels or soft targets');
  if (t.labels) expectShape('crossEntropyLoss', 'labels', t.labels.shape, [N]);
  if (t.soft) expectShape('crossEntropyLoss', 'soft targets', t.soft.shape, [N, K]);
  if (t.weights) expectShape('crossEntropyLoss', 'weights', t.weights.shape, [N]);
  const rt = logits.rt;
  const stats = t.accumulateInto ?? Tensor.empty(rt, [4], 'ce.stats');
  const pred = Tensor.empty(rt, [N], 'ce.pred', 'u32');
  const target = t.labels ? { labels: t.labels.buffer } : { soft: t.soft!.buffer };
  const run = (dlogits: Tensor | null) =>
    ceKernel(
      rt,
      { logits: logits.buffer, target, weights: t.weights?.buffer ?? null, dlogits: dlogits?.buffer ?? null, pred: pred.buffer, stats: stats.buffer },
      { N, K, accumulateStats: !!t.accumulateInto },
    );
  if (isRecording([logits])) {
    // The loss is the root: its gradient w.r.t. the logits is the whole upstream gradient.
    let wrote = false;
    addGrad(logits, (dst, acc) => {
      if (acc) throw new Error('crossEntropyLoss: logits already have a gradient (call it once per backward)');
      run(dst);
      wrote = true;
    });
    if (!wrote) run(null);
  } else {
    run(null);
  }
  return { stats, pred };
}
