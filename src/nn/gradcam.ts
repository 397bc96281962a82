// GradCAM on the GPU: the network's features run without a tape; only the head (global
// average pool + fc) is recorded, from the last conv stage's activation A as a leaf, so
// backward from the one-hot target gives dA without touching the rest of the network.
import { Tensor } from './tensor.js';
import { Tape, noGrad } from './tape.js';
import type { ResNet18 } from './resnet18.js';
import { oneHotTarget } from '../kernels/onehot.js';
import { gradCam } from '../kernels/gradcam.js';

export interface GradCamResult {
  logits: Tensor;
  /** [N,H,W] f32 in [0,1], per-image min-max normalised, upsampled bilinearly to the input. */
  z: Tensor;
  /** [N] u32, 0 where the CAM was constant (excluded from %E/%F). */
  valid: Tensor;
}

/**
 * x: [N,C,H,W] network input. target: 'pred' (argmax) or a u32 [N] label tensor. The model
 * should be in eval mode (BatchNorm with running statistics), as for any evaluation.
 */
export async function gradCamBatch(model: ResNet18, x: Tensor, target: 'pred' | Tensor): Promise<GradCamResult> {
  const [N, , H, W] = x.shape as [number, number, number, number];
  const A = await noGrad(() => model.features(x));
  const [, C, h, w] = A.shape as [number, number, number, number];
  A.requiresGrad = true;
  const tape = new Tape().start();
  let logits: Tensor;
  try {
    logits = model.head(A);
  } catch (e) {
    tape.clear();
    throw e;
  }
  const K = logits.shape[1]!;
  logits.grad = Tensor.empty(x.rt, [N, K], 'gradcam.seed').keep();
  oneHotTarget(x.rt, logits.buffer, target === 'pred' ? null : target.buffer, logits.grad.buffer, N, K);
  // The head's parameters would receive gradients too; GradCAM must not disturb training state.
  const params = model.fc.parameters();
  const saved = params.map((p) => ({ p, grad: p.grad, stale: p.gradStale, requires: p.requiresGrad }));
  for (const p of params) p.requiresGrad = false;
  try {
    tape.backward();
  } finally {
    for (const s of saved) {
      s.p.requiresGrad = s.requires;
      s.p.grad = s.grad;
      s.p.gradStale = s.stale;
    }
  }
  const z = Tensor.empty(x.rt, [N, H, W], 'gradcam.z');
  const valid = Tensor.empty(x.rt, [N], 'gradcam.valid', 'u32');
  gradCam(x.rt, A.buffer, A.grad!.buffer, z.buffer, valid.buffer, { N, C, h, w, H, W });
  A.grad!.dispose();
  A.grad = null;
  A.dispose();
  return { logits, z, valid };
}
