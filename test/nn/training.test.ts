// Training with the tape, ResNet18 and Adam: the optimiser step against the float64 reference,
// memory that stays flat over many steps, and a loss that goes down on a tiny fixed dataset.
import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { ResNet18, type ResNet18Config } from '../../src/nn/resnet18.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { Adam } from '../../src/nn/adam.js';
import { encodeTrainStep } from '../../src/train/step.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { adamRefStep } from '../reference/adam.js';
import { gpuForwardBackward, readModel } from './nn_test_utils.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await gpuRuntime();
});

/** The trainer's step on host data; returns the loss statistics only when `read` (one readback). */
async function trainStep(
  model: ResNet18, opt: Adam, x: Float32Array, xShape: number[], labels: Uint32Array, read: boolean,
): Promise<Float32Array | null> {
  return scope(async () => {
    const inputs = { x: Tensor.fromArray(rt, x, xShape, 'x'), labels: Tensor.fromArray(rt, labels, [labels.length], 'labels') };
    const stats = encodeTrainStep(model, opt, inputs);
    if (read) return stats.toArray();
    rt.flush();
    return null;
  });
}

describe('Adam on a ResNet18', () => {
  const config: ResNet18Config = { stem: 'cifar', inChannels: 1, numClasses: 4, width: 2 };
  const xShape = [2, 1, 8, 8];
  const x = uniform(2 * 64, 31);
  const labels = Uint32Array.of(0, 2);

  it('two steps update every parameter as torch.optim.Adam does (float64 reference from the GPU gradients)', async () => {
    const model = new ResNet18(rt, config, 3);
    const hyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
    const opt = new Adam(model.parameters(), { lr: hyper.lr });
    const start = await readModel(model);
    const p = Object.fromEntries(start.params.map((k) => [k, Float64Array.from(start.data[k]!)]));
    const m = Object.fromEntries(start.params.map((k) => [k, new Float64Array(p[k]!.length)]));
    const v = Object.fromEntries(start.params.map((k) => [k, new Float64Array(p[k]!.length)]));
    for (let t = 1; t <= 2; t++) {
      // The reference steps from the GPU's own parameters and gradients, so only the update is compared.
      const before = await readModel(model);
      const { grads } = await gpuForwardBackward(rt, model, x, xShape, labels, null);
      opt.update();
      const after = await readModel(model);
      for (const k of start.params) {
        const ref = Float64Array.from(before.data[k]!);
        // m and v carry over in float64; the GPU's are f32 — far below the tolerance after 2 steps.
        adamRefStep(ref, grads[k]!, m[k]!, v[k]!, hyper, t);
        // The update is lr·m̂/(√v̂+ε) ≈ lr per element at these steps, computed in f32 from f32
        // inputs: relative error a few ulp of the step, i.e. ≤ 1e-6 of |p| + 1e-7 absolute.
        expectClose(after.data[k]!, ref, { rtol: 1e-6, atol: 1e-7 }, `step ${t}: ${k}`);
      }
      expect(opt.step).toBe(t);
    }
    // After zeroGrad and no backward, the stale gradients must not move anything.
    const frozen = await readModel(model);
    model.zeroGrad();
    opt.update();
    const still = await readModel(model);
    for (const k of frozen.params) expect(Array.from(still.data[k]!), k).toEqual(Array.from(frozen.data[k]!));
    opt.dispose();
    model.dispose();
  });

  it('GPU memory stays flat over 200 training steps (width 2, 8×8, batch 2)', async () => {
    const model = new ResNet18(rt, config, 4);
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    await trainStep(model, opt, x, xShape, labels, true);
    await rt.finish();
    const first = rt.pool.stats();
    let last = first;
    for (let i = 1; i < 200; i++) {
      // Read back only every 50th step: the pool recycles on submit, not on readback, and
      // skipping the waits keeps 200 steps fast.
      const stats = await trainStep(model, opt, x, xShape, labels, i % 50 === 0);
      if (stats) expect(Number.isFinite(stats[0]!)).toBe(true);
      last = rt.pool.stats();
      expect(last.bytesAllocated, `bytesAllocated after step ${i + 1}`).toBe(first.bytesAllocated);
    }
    await rt.finish();
    last = rt.pool.stats();
    expect(last.bytesAllocated).toBe(first.bytesAllocated);
    expect(last.buffersCreated).toBe(first.buffersCreated);
    // Nothing but parameters, gradients, Adam state and the model's buffers is held between steps.
    expect(last.bytesInUse).toBe(first.bytesInUse);
    opt.dispose();
    model.dispose();
  });

  it('Runtime.step packs the loop once two steps allocate alike: bit-identical weights, less memory, flat from there', async () => {
    // The same 8 steps, unplanned and through Runtime.step, from the same initial weights.
    const models = [new ResNet18(rt, config, 5), new ResNet18(rt, config, 5)];
    const opts = models.map((m) => new Adam(m.parameters(), { lr: 1e-3 }));
    for (let i = 0; i < 8; i++) await trainStep(models[0]!, opts[0]!, x, xShape, labels, true);
    await rt.finish();
    rt.pool.trim();
    const peaks: number[] = [];
    const created: number[] = [];
    const planned: number[] = [];
    for (let i = 0; i < 8; i++) {
      rt.pool.resetPeak();
      await rt.step(() => trainStep(models[1]!, opts[1]!, x, xShape, labels, true));
      const s = rt.pool.stats();
      peaks.push(s.peakBytesAllocated);
      created.push(s.buffersCreated);
      planned.push(s.stepPlanBytes);
    }
    // The first step allocates the parameters' gradients, so steps 2 and 3 are the first pair alike.
    const first = planned.findIndex((b) => b > 0);
    expect(first, `plan bytes by step: ${planned.join(', ')}`).toBe(2);
    expect(peaks[first + 1]!).toBeLessThan(peaks[0]!);
    for (let i = first + 1; i < 8; i++) {
      expect(peaks[i], `pool peak in step ${i + 1}`).toBe(peaks[first + 1]);
      expect(created[i], `buffers created by step ${i + 1}`).toBe(created[first]);
    }
    const [a, b] = [await readModel(models[0]!), await readModel(models[1]!)];
    for (const k of Object.keys(a.data)) expect(Array.from(b.data[k]!), k).toEqual(Array.from(a.data[k]!));
    for (const o of opts) o.dispose();
    for (const m of models) m.dispose();
  });
});

describe('a 30-step training run', () => {
  // 8×8 images and width 2, the shapes of the tests above: their pipelines are compiled already
  // (16×16 at width 4 would add ~17 s of shader JIT and 2.5× the step time on SwiftShader).
  it('drives the loss on a fixed set of 8 images (8×8, 4 classes, width 2) below half its initial value', async () => {
    const N = 8;
    const S = 8;
    // Each class is a noisy pattern of its own (stripes at one of 4 orientations), fixed data.
    const noise = uniform(N * S * S, 41, -0.5, 0.5);
    const x = new Float32Array(N * S * S);
    const labels = new Uint32Array(N);
    for (let n = 0; n < N; n++) {
      const c = n % 4;
      labels[n] = c;
      const [a, b] = [[1, 0], [0, 1], [1, 1], [1, -1]][c]!;
      for (let i = 0; i < S; i++) {
        for (let j = 0; j < S; j++) x[(n * S + i) * S + j] = Math.sin(((a! * i + b! * j) * Math.PI) / 3) + noise[(n * S + i) * S + j]!;
      }
    }
    const model = new ResNet18(rt, { stem: 'cifar', inChannels: 1, numClasses: 4, width: 2 }, 5);
    const opt = new Adam(model.parameters(), { lr: 1e-2 });
    // The loss of steps 1, 10, 20 and 30 (a readback is a full GPU sync, 2.5× the cost of a
    // step on SwiftShader, so not every step).
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const stats = await trainStep(model, opt, x, [N, 1, S, S], labels, step === 0 || step % 10 === 9);
      if (stats) losses.push(stats[0]!);
    }
    console.log(`loss at steps 1, 10, 20, 30: ${losses.map((l) => l.toFixed(4)).join(' ')}`);
    expect(losses.length).toBe(4);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[0]!).toBeGreaterThan(1); // ≈ ln 4 at initialisation
    expect(losses[3]!).toBeLessThan(0.5 * losses[0]!);
    opt.dispose();
    model.dispose();
  });
});
