// Whole-network gradient check of ResNet18 (both stems) against the float64 reference network
// test/reference/resnet18.ts, which is built from the per-op references, and against PyTorch:
//   (a) GPU logits, loss and BN running statistics vs the reference forward;
//   (b) GPU parameter gradients vs the reference's analytic gradients, every element of every
//       parameter tensor (so every layer: 20 convs, 20 BNs, fc);
//   (c) the reference's gradients vs central finite differences of the reference loss (float64),
//       on a sample with one element from every parameter tensor;
//   (d) eval-mode logits (running statistics) vs the reference;
//   (e) PyTorch parity through golden fixtures that PyTorch wrote (test/fixtures/parity, from
//       scripts/torch/golden_fixtures.py; no torch needed here): a checkpoint torch wrote, without
//       wgml metadata, loads with the architecture inferred from its shapes, re-exports byte for
//       byte and gives torch's eval-mode logits; one training step on torch's batch matches
//       torch's float64 logits, loss, every parameter gradient, the input gradient and the BN
//       running statistics — on the GPU at the f32 tolerances, and for the float64 reference to
//       1e-9, so the reference *is* torch's network. It lives in this file to reuse (a)–(d)'s
//       compiled pipelines: shader JIT is most of a ResNet test's cost on SwiftShader.
//       The same checks against a live torch, including torch loading wgml's checkpoints, are
//       test/torch/resnet_parity.torch.test.ts (`npm run test:torch`, CI).
//
// Shapes, tolerances and the comparisons against torch: ./resnet_parity.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import type { Runtime } from '../../src/kernels/runtime.js';
import { ResNet18 } from '../../src/nn/resnet18.js';
import { exportStateDict, type LoadedModel } from '../../src/nn/state_dict.js';
import { encodeSafetensors } from '../../src/nn/safetensors.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad } from '../helpers/finite_diff.js';
import { bnRunningUpdateRef } from '../reference/batchnorm.js';
import { refResNet18LossAndGrads, refResNet18Loss, refResNet18Eval } from '../reference/resnet18.js';
import { expectScaledClose, gpuForwardBackward, readModel, scaledError } from './nn_test_utils.js';
import {
  CASES, N, LABELS as labels, WEIGHTS as weights, LOGIT_TOL, LOSS_RTOL, GRAD_TOL, RUNNING_TOL,
  evalLogits as evalLogitsOn, expectLoadsTorchExport, expectMatchesTorchStep, readParityFixture,
} from './resnet_parity.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await gpuRuntime();
});

// Reference vs central differences, both float64: h = 1e-6 gives O(h²) truncation and
// O(ε·|L|/h) ≈ 1e-10 rounding; the loss is smooth except at ReLU/max-pool switches, which random
// data keeps far from the sampled steps. Worst measured relative error 3e-6 (imagenet) and
// 3e-7 (cifar), on elements whose gradient is small next to their tensor's largest.
const FD_TOL = { rtol: 1e-5, atol: 1e-8 };

const cases = CASES.map(({ config, size, seed }) => {
  const xShape = [N, config.inChannels, size, size];
  return { config, size, seed, xShape, x: uniform(N * config.inChannels * size * size, seed, -1, 1) };
});

describe.each(cases)('ResNet18 $config.stem stem, width 4, $size×$size, batch 2: GPU vs float64 reference', (c) => {
  const { config, xShape, x } = c;
  let model: ResNet18;
  let init: Awaited<ReturnType<typeof readModel>>;
  let gpu: Awaited<ReturnType<typeof gpuForwardBackward>>;
  let ref: ReturnType<typeof refResNet18LossAndGrads>;
  let after: Awaited<ReturnType<typeof readModel>>;

  beforeAll(async () => {
    model = new ResNet18(rt, config, c.seed);
    init = await readModel(model);
    gpu = await gpuForwardBackward(rt, model, x, xShape, labels, weights);
    after = await readModel(model);
    const params = Object.fromEntries(init.params.map((k) => [k, init.data[k]!]));
    ref = refResNet18LossAndGrads(params, init.shapes, config, x, xShape, labels, weights);
  });

  it('logits and loss match; every BN running statistic is updated as PyTorch does', () => {
    console.log(`[${config.stem}] training-mode logits scaled error ${scaledError(gpu.logits, ref.logits).toExponential(2)}`);
    expectClose(gpu.logits, ref.logits, LOGIT_TOL, 'logits');
    expect(Math.abs(gpu.stats[0]! - ref.loss)).toBeLessThan(LOSS_RTOL * Math.max(1, ref.loss));
    const prefixes = Object.keys(ref.stats);
    expect(prefixes.length).toBe(20); // bn1 + 4 stages × (2 blocks × 2 BNs) + 3 downsample BNs
    for (const k of prefixes) {
      const s = ref.stats[k]!;
      const want = bnRunningUpdateRef(init.data[`${k}.running_mean`]!, init.data[`${k}.running_var`]!, s.mean, s.varBiased, s.M, 0.1);
      expectClose(after.data[`${k}.running_mean`]!, want.runMean, RUNNING_TOL, `${k}.running_mean`);
      expectClose(after.data[`${k}.running_var`]!, want.runVar, RUNNING_TOL, `${k}.running_var`);
    }
    expect(model.bn1.numBatchesTracked).toBe(1n);
  });

  it('every parameter gradient matches the reference analytic gradient', () => {
    expect(Object.keys(gpu.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    expect(Object.keys(gpu.grads).length).toBe(62); // 20 convs + 20 BN (γ, β) + fc (W, b)
    const errs: Array<[string, number]> = [];
    for (const k of Object.keys(ref.grads)) {
      // A gradient that is identically zero would make the comparison vacuous.
      expect(Math.max(...Array.from(ref.grads[k]!, Math.abs)), `${k}: reference gradient is zero`).toBeGreaterThan(0);
      errs.push([k, expectScaledClose(gpu.grads[k]!, ref.grads[k]!, GRAD_TOL, `grad ${k}`)]);
    }
    errs.sort((a, b) => b[1] - a[1]);
    console.log(`[${config.stem}] worst gradient errors (scale-relative):`, errs.slice(0, 4).map(([k, e]) => `${k} ${e.toExponential(2)}`).join(', '));
  });

  it('reference gradients match central finite differences of the reference loss (one element of every tensor)', () => {
    const params64: Record<string, Float64Array> = Object.fromEntries(init.params.map((k) => [k, Float64Array.from(init.data[k]!)]));
    const x64 = Float64Array.from(x);
    const loss = () => refResNet18Loss(params64, init.shapes, config, x64, xShape, labels, weights);
    expect(Math.abs(loss() - ref.loss)).toBeLessThan(1e-12);
    let worst = 0;
    init.params.forEach((k, j) => {
      const n = params64[k]!.length;
      const i = (j * 7919 + 5) % n;
      const fd = numericalGrad(loss, params64[k]!, [i])[i]!;
      const an = ref.grads[k]![i]!;
      worst = Math.max(worst, Math.abs(fd - an) / Math.max(Math.abs(an), 1e-12));
      expectClose([fd], [an], FD_TOL, `d loss / d ${k}[${i}]`);
    });
    console.log(`[${config.stem}] worst FD relative error ${worst.toExponential(2)}`);
  });

  it('eval mode (running statistics) matches the reference', async () => {
    const logits = await evalLogitsOn(rt, model, x, xShape);
    const want = refResNet18Eval(after.data, after.shapes, config, x, xShape);
    console.log(`[${config.stem}] eval logits scaled error ${scaledError(logits, want).toExponential(2)}`);
    expectClose(logits, want, LOGIT_TOL, 'eval logits');
  });
});

describe.each(CASES.map(({ config }) => ({ config, stem: config.stem })))(
  'PyTorch golden fixture, $stem stem (test/fixtures/parity, written by scripts/torch/golden_fixtures.py)',
  ({ config }) => {
    const fx = readParityFixture(config.stem, config.width);
    let loaded: LoadedModel;
    afterAll(() => loaded?.model.dispose());

    it('torch → wgml: the state dict torch wrote (no wgml metadata) loads with the architecture inferred from its shapes, re-exports byte for byte, and gives torch\'s eval-mode logits', async () => {
      expect(fx.config).toEqual(config);
      loaded = await expectLoadsTorchExport(rt, fx.checkpoint, config, fx.exported, 5n, fx.x, fx.xShape);
      const again = encodeSafetensors(await exportStateDict(loaded.model), { format: 'pt' });
      expect(Buffer.from(again).equals(fs.readFileSync(fx.checkpoint)), 'wgml\'s export of the loaded model = the bytes torch wrote').toBe(true);
    });

    it('one training step matches torch\'s: logits, loss, every parameter and the input gradient, BN running statistics (GPU at the f32 tolerances, float64 reference to 1e-9)', async () => {
      const model = loaded.model;
      const init = await readModel(model);
      const gpu = await gpuForwardBackward(rt, model, fx.x, fx.xShape, fx.labels, fx.weights, { inputGrad: true });
      const after = (await readModel(model)).data;
      const params = Object.fromEntries(init.params.map((k) => [k, init.data[k]!]));
      const ref = refResNet18LossAndGrads(params, init.shapes, config, fx.x, fx.xShape, fx.labels, fx.weights);
      expectMatchesTorchStep(config.stem, { model, gpu, ref, after }, fx.train);
    });
  },
);
