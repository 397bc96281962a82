// One training step as a unit — forward, weighted cross-entropy, tape backward, Adam — shared by
// the trainer, the benchmarks and library users who write their own loop. It reads back 16 bytes
// (the loss statistics), so a loop of steps never stalls on more than that.
import type { Runtime } from '../kernels/runtime.js';
import type { AugmentedBatch } from '../backmix/augment.js';
import type { ResNet18 } from '../nn/resnet18.js';
import type { Adam } from '../nn/adam.js';
import { Tensor } from '../nn/tensor.js';
import { Tape } from '../nn/tape.js';
import { crossEntropyLoss } from '../nn/ops/cross_entropy.js';

/** The GPU tensors one step consumes: x [B,C,S,S], and either labels [B] u32 or soft [B,K] f32. */
export interface StepInputs {
  x: Tensor;
  labels?: Tensor;
  soft?: Tensor;
  /** Per-example loss weights [B] (wBackMix); all 1 when absent. */
  weights?: Tensor | null;
}

export interface StepStats {
  /** (1/B)·Σ wᵢ·CEᵢ, the loss the gradient is of. */
  loss: number;
  /** Σ CEᵢ, unweighted. */
  ceSum: number;
  /** Rows whose argmax equals the label (soft targets: the target's argmax). */
  correct: number;
}

/**
 * Wraps an augmented batch as step inputs. The tensors join the enclosing `scope`, which
 * releases them (x included) when it ends.
 */
export function augmentedInputs(rt: Runtime, batch: AugmentedBatch, size: number, numClasses: number): StepInputs {
  const B = batch.labels.length;
  const S = size;
  const x = new Tensor(rt, [B, 1, S, S], batch.x, 'f32', false, 'x');
  const weights = Tensor.fromArray(rt, batch.weights, [B], 'weights');
  return batch.softTargets
    ? { x, weights, soft: Tensor.fromArray(rt, batch.softTargets, [B, numClasses], 'soft_targets') }
    : { x, weights, labels: Tensor.fromArray(rt, Uint32Array.from(batch.labels), [B], 'labels') };
}

/**
 * Encodes one optimisation step of `model` on `inputs` — zero the gradients, record the forward
 * pass and the loss on a tape, run the backward pass, apply Adam — without waiting for the GPU.
 * Returns the loss statistics [Σw·CE/B, Σw·CE, ΣCE, correct] as a tensor; read it, or not
 * (a readback is a full GPU sync). Call it inside `scope()` so the step's activations and inputs
 * are released when the scope ends.
 */
export function encodeTrainStep(model: ResNet18, opt: Adam, inputs: StepInputs): Tensor {
  model.zeroGrad();
  const tape = new Tape().start();
  try {
    const logits = model.forward(inputs.x);
    const target = inputs.soft ? { soft: inputs.soft } : { labels: inputs.labels };
    const { stats } = crossEntropyLoss(logits, { ...target, weights: inputs.weights ?? null });
    tape.backward();
    opt.update();
    return stats;
  } finally {
    tape.clear();
  }
}

/** One optimisation step (see encodeTrainStep), waiting for its loss statistics: 16 bytes back. */
export async function trainStep(model: ResNet18, opt: Adam, inputs: StepInputs): Promise<StepStats> {
  const s = await encodeTrainStep(model, opt, inputs).toArray();
  return { loss: s[0]!, ceSum: s[2]!, correct: s[3]! };
}
