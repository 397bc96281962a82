// GradCAM through a real network (src/nn/gradcam.ts gradCamBatch: features without a tape,
// taped head, backward from a one-hot seed, the GPU GradCAM kernel) against a float64 CPU
// computation from the same activation A and fc weights.
//
// For ResNet18's head, logits = W_fc · avgpool(A) + b, so the target logit's gradient w.r.t. A
// is the same at every position: dA[n,c,y,x] = W_fc[t_n, c] / (h·w). The CPU side builds that
// dA, then runs test/reference/gradcam.ts (α = spatial mean of dA, CAM = ReLU(Σ_c α·A),
// bilinear upsampling with align_corners=False, per-image min-max).
import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { ResNet18 } from '../../src/nn/resnet18.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { noGrad } from '../../src/nn/tape.js';
import { gradCamBatch } from '../../src/nn/gradcam.js';
import { gradCamRef } from '../reference/gradcam.js';

// 20×20 with the CIFAR stem: stages at 20, 10, 5, 3 — a 3×3 CAM upsampled by a non-integer
// factor (3 → 20), which exercises the edge clamps of the bilinear taps.
const N = 3;
const S = 20;
const K = 4;

interface CpuCam {
  logits: Float64Array;
  targets: number[];
  z: Float64Array;
  valid: Uint32Array;
  /** max over images of Σ_c |α·A| at a pixel, divided by the image's CAM range (see tolerance). */
  condition: number;
}

function cpuGradCam(A: Float32Array, Wfc: Float32Array, bfc: Float32Array, C: number, h: number, w: number, target: number[] | 'pred'): CpuCam {
  const hw = h * w;
  const logits = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let s = bfc[k]!;
      for (let c = 0; c < C; c++) {
        let m = 0;
        for (let q = 0; q < hw; q++) m += A[(n * C + c) * hw + q]!;
        s += Wfc[k * C + c]! * (m / hw);
      }
      logits[n * K + k] = s;
    }
  }
  const targets = target === 'pred'
    ? Array.from({ length: N }, (_, n) => {
        const row = Array.from(logits.subarray(n * K, (n + 1) * K));
        return row.indexOf(Math.max(...row));
      })
    : target;
  const dA = new Float64Array(N * C * hw);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) dA.fill(Wfc[targets[n]! * C + c]! / hw, (n * C + c) * hw, (n * C + c + 1) * hw);
  }
  const ref = gradCamRef(A, dA, { N, C, h, w, H: S, W: S });
  let condition = 0;
  for (let n = 0; n < N; n++) {
    let mag = 0;
    for (let q = 0; q < hw; q++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.abs(ref.alpha[n * C + c]! * A[(n * C + c) * hw + q]!);
      mag = Math.max(mag, s);
    }
    const range = ref.range[2 * n + 1]! - ref.range[2 * n]!;
    condition = Math.max(condition, range > 0 ? mag / range : 0);
  }
  return { logits, targets, z: ref.z, valid: ref.valid, condition };
}

describe('gradCamBatch on a width-2 ResNet18 vs a float64 CPU GradCAM', () => {
  it.each([['pred'], ['true labels']] as const)('target: %s', async (mode) => {
    const rt = await gpuRuntime();
    const model = new ResNet18(rt, { inChannels: 1, numClasses: K, stem: 'cifar', width: 2 }, 7);
    try {
      // Running statistics away from (0, 1), so eval-mode BatchNorm is not the identity.
      model.train();
      await scope(async () => {
        const warm = Tensor.fromArray(rt, uniform(N * S * S, 99, -2, 2), [N, 1, S, S], 'warm');
        await (await noGrad(() => model.forward(warm))).toArray();
      });
      model.eval();
      const labels = [2, 0, 3];
      const got = await scope(async () => {
        const x = Tensor.fromArray(rt, uniform(N * S * S, 5, -1.5, 1.5), [N, 1, S, S], 'x');
        const A = await noGrad(() => model.features(x));
        const Ahost = await A.toArray();
        const target = mode === 'pred' ? 'pred' : Tensor.fromArray(rt, Uint32Array.from(labels), [N], 'labels');
        const cam = await gradCamBatch(model, x, target);
        return {
          A: Ahost, shape: A.shape, z: await cam.z.toArray(), valid: await cam.valid.toU32Array(), logits: await cam.logits.toArray(),
          W: await model.fc.weight.toArray(), b: await model.fc.bias.toArray(),
        };
      });
      const [, C, h, w] = got.shape as [number, number, number, number];
      expect([C, h, w]).toEqual([16, 3, 3]);
      const ref = cpuGradCam(got.A, got.W, got.b, C, h, w, mode === 'pred' ? 'pred' : labels);

      // Logits: a 16-term f32 dot product plus a 9-term mean; 1e-5 relative to their scale.
      const lscale = Math.max(...Array.from(ref.logits, Math.abs));
      for (let i = 0; i < N * K; i++) expect(Math.abs(got.logits[i]! - ref.logits[i]!), `logit ${i}`).toBeLessThanOrEqual(1e-5 * lscale);
      if (mode === 'pred') {
        // The GPU picked the same argmax (no near-ties in this draw).
        for (let n = 0; n < N; n++) {
          const row = Array.from(got.logits.subarray(n * K, (n + 1) * K));
          expect(row.indexOf(Math.max(...row))).toBe(ref.targets[n]);
        }
      }
      expect(Array.from(got.valid)).toEqual(Array.from(ref.valid));
      expect(Array.from(ref.valid)).toEqual([1, 1, 1]);
      // Tolerance: the GPU's α (two f32 divisions and a 9-term sum) and CAM (a 16-term f32 sum)
      // carry ≲ (16 + 9 + 4)·2^-24 ≈ 1.7e-6 of Σ_c|α·A|; min-max divides by the CAM's range,
      // so the error on z is that times `condition` (Σ|α·A| / range: 4.4 and 10.0 for these two
      // draws; asserted < 50 so the bound stays meaningful), plus the bilinear weights'
      // rounding (~2^-24). 1e-4 covers condition 50 (8.7e-5); measured: 3.5e-7 and 2.5e-7 on
      // SwiftShader and lavapipe alike.
      expect(ref.condition, 'CAM conditioning').toBeLessThan(50);
      let worst = 0;
      for (let i = 0; i < N * S * S; i++) worst = Math.max(worst, Math.abs(got.z[i]! - ref.z[i]!));
      expect(worst, `max |z − z_ref| (condition ${ref.condition.toFixed(2)})`).toBeLessThanOrEqual(1e-4);
      // Each map spans [0, 1] exactly at its extremes.
      for (let n = 0; n < N; n++) {
        const zn = got.z.subarray(n * S * S, (n + 1) * S * S);
        expect(Math.min(...zn)).toBe(0);
        expect(Math.max(...zn)).toBeCloseTo(1, 6);
      }
      // GradCAM leaves the head's parameters without gradients (training state untouched).
      expect(model.fc.weight.grad).toBeNull();
      expect(model.fc.bias.grad).toBeNull();
    } finally {
      model.dispose();
    }
  });
});
