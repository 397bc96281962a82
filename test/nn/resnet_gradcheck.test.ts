// Whole-network gradient check of ResNet18 (both stems) against the float64 reference network
// test/reference/resnet18.ts, which is built from the per-op references, and against PyTorch:
//   (a) GPU logits, loss and BN running statistics vs the reference forward;
//   (b) GPU parameter gradients vs the reference's analytic gradients, every element of every
//       parameter tensor (so every layer: 20 convs, 20 BNs, fc);
//   (c) the reference's gradients vs central finite differences of the reference loss (float64),
//       on a sample with one element from every parameter tensor;
//   (d) eval-mode logits (running statistics) vs the reference;
//   (e) PyTorch parity both ways, through safetensors files and scripts/torch/parity.py (float64
//       in torch): torch loads the checkpoint wgml wrote (strict) and runs the same training
//       step — its logits, loss, gradients and running statistics match the GPU's, and match the
//       float64 reference to ~1e-12, so the reference *is* torchvision's network; and a state
//       dict torch wrote, without wgml metadata, loads with the architecture inferred from its
//       shapes and gives torch's eval-mode logits. (e) runs where /usr/bin/python3 has torch (CI
//       installs python3-torch); elsewhere it is reported skipped with the reason in its name.
//       It lives in this file to reuse (a)–(d)'s GPU step and compiled pipelines: shader JIT is
//       most of a ResNet test's cost on SwiftShader.
//
// Shapes: width 4, batch 2, 1 input channel, 4 classes. The cifar stem takes 16×16 (stages at
// 16², 8², 4², 2²). The imagenet stem takes 48×48 (stem 24², pool 12², stages 12², 6², 3², 2²):
// at 16×16 it would reach layer3 at 1×1, where BatchNorm over a batch of 2 maps every channel to
// ±γ+β whatever its input, so nothing upstream would get a meaningful gradient to check. 48
// also puts an odd map (3×3) into a stride-2 conv.
//
// Tolerances. Both sides compute the same sums; the GPU rounds in f32 (2^-24 ≈ 6e-8 per
// operation, growing like K·2^-24 for a K-term dot product, K ≤ 8w·9 = 288 here) through ~20
// conv/BN layers forward and again backward. BatchNorm's backward subtracts the batch means of
// dz and dz·x̂ from dz — a difference of similar-sized numbers that turns the absolute rounding
// error of the large terms into a large relative error of the small results — so gradients are
// compared against each tensor's scale: |gpu − ref| ≤ tol·max|ref|. Measured worst cases are
// quoted next to each bound; the bounds leave a few times margin for other drivers' FMA
// contraction and summation order.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../src/kernels/runtime.js';
import { ResNet18, type ResNet18Config } from '../../src/nn/resnet18.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { noGrad } from '../../src/nn/tape.js';
import { saveModel, loadModelFile } from '../../src/nn/state_dict.js';
import { writeSafetensors } from '../../src/nn/safetensors.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad } from '../helpers/finite_diff.js';
import { bnRunningUpdateRef } from '../reference/batchnorm.js';
import { refResNet18LossAndGrads, refResNet18Loss, refResNet18Eval } from '../reference/resnet18.js';
import { PY, probeTorch, expectScaledClose, gpuForwardBackward, readModel, scaledError } from './nn_test_utils.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const torch = probeTorch();
if (!torch.ok) console.warn(`[resnet_gradcheck.test] PyTorch parity tests skipped: ${torch.reason}`);

let rt: Runtime;
let tmp: string | null = null;
beforeAll(async () => {
  rt = await gpuRuntime();
  if (torch.ok) tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-resnet-parity-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const N = 2;
const CASES: Array<{ config: ResNet18Config; size: number; seed: number }> = [
  { config: { stem: 'cifar', inChannels: 1, numClasses: 4, width: 4 }, size: 16, seed: 11 },
  { config: { stem: 'imagenet', inChannels: 1, numClasses: 4, width: 4 }, size: 48, seed: 12 },
];

// f32 logits after ~20 layers: worst measured 1.2e-6 of scale (SwiftShader, lavapipe); bound 1e-3
// relative + 1e-4 absolute (logits are O(1)).
const LOGIT_TOL = { rtol: 1e-3, atol: 1e-4 };
// Parameter gradients, scale-relative: worst measured 8e-6 (cifar, layer2.1.bn1.bias) and 2e-5
// (imagenet, bn1.weight: the stem BN sums 2·24² = 1152 terms) on SwiftShader and lavapipe; bound
// 5e-4, 25× that, still far below what a wrong term of the backward produces (O(1e-1..1)).
const GRAD_TOL = 5e-4;
// Reference vs central differences, both float64: h = 1e-6 gives O(h²) truncation and
// O(ε·|L|/h) ≈ 1e-10 rounding; the loss is smooth except at ReLU/max-pool switches, which random
// data keeps far from the sampled steps. Worst measured relative error 3e-6 (imagenet) and
// 3e-7 (cifar), on elements whose gradient is small next to their tensor's largest.
const FD_TOL = { rtol: 1e-5, atol: 1e-8 };

interface Case {
  config: ResNet18Config;
  size: number;
  seed: number;
  xShape: number[];
  x: Float32Array;
  model?: ResNet18;
  init?: Awaited<ReturnType<typeof readModel>>;
  gpu?: Awaited<ReturnType<typeof gpuForwardBackward>>;
  after?: Awaited<ReturnType<typeof readModel>>;
  ref?: ReturnType<typeof refResNet18LossAndGrads>;
  /** Checkpoint of the initial weights and the batch, for torch. */
  wgmlFile?: string;
  batchFile?: string;
}
const cases: Case[] = CASES.map(({ config, size, seed }) => {
  const xShape = [N, config.inChannels, size, size];
  return { config, size, seed, xShape, x: uniform(N * config.inChannels * size * size, seed, -1, 1) };
});
const labels = Uint32Array.of(1, 3);
const weights = Float32Array.of(0.7, 1.6); // non-uniform: wBackMix-style per-example weights

describe.each(cases)('ResNet18 $config.stem stem, width 4, $size×$size, batch 2: GPU vs float64 reference', (c) => {
  const { config, xShape, x } = c;
  let model: ResNet18;
  let init: Awaited<ReturnType<typeof readModel>>;
  let gpu: Awaited<ReturnType<typeof gpuForwardBackward>>;
  let ref: ReturnType<typeof refResNet18LossAndGrads>;
  let after: Awaited<ReturnType<typeof readModel>>;

  beforeAll(async () => {
    model = c.model = new ResNet18(rt, config, c.seed);
    init = c.init = await readModel(model);
    if (tmp) {
      c.wgmlFile = path.join(tmp, `wgml_${config.stem}.safetensors`);
      await saveModel(c.wgmlFile, model);
      c.batchFile = path.join(tmp, `batch_${config.stem}.safetensors`);
      await writeSafetensors(c.batchFile, {
        x: { dtype: 'F32', shape: xShape, data: x },
        labels: { dtype: 'I64', shape: [N], data: BigInt64Array.from(labels, (v) => BigInt(v)) },
        weights: { dtype: 'F32', shape: [N], data: weights },
      });
    }
    gpu = c.gpu = await gpuForwardBackward(rt, model, x, xShape, labels, weights);
    after = c.after = await readModel(model);
    const params = Object.fromEntries(init.params.map((k) => [k, init.data[k]!]));
    ref = c.ref = refResNet18LossAndGrads(params, init.shapes, config, x, xShape, labels, weights);
  });

  it('logits and loss match; every BN running statistic is updated as PyTorch does', () => {
    console.log(`[${config.stem}] training-mode logits scaled error ${scaledError(gpu.logits, ref.logits).toExponential(2)}`);
    expectClose(gpu.logits, ref.logits, LOGIT_TOL, 'logits');
    expect(Math.abs(gpu.stats[0]! - ref.loss)).toBeLessThan(1e-4 * Math.max(1, ref.loss));
    const prefixes = Object.keys(ref.stats);
    expect(prefixes.length).toBe(20); // bn1 + 4 stages × (2 blocks × 2 BNs) + 3 downsample BNs
    for (const k of prefixes) {
      const s = ref.stats[k]!;
      const want = bnRunningUpdateRef(init.data[`${k}.running_mean`]!, init.data[`${k}.running_var`]!, s.mean, s.varBiased, s.M, 0.1);
      expectClose(after.data[`${k}.running_mean`]!, want.runMean, { rtol: 1e-3, atol: 1e-5 }, `${k}.running_mean`);
      expectClose(after.data[`${k}.running_var`]!, want.runVar, { rtol: 1e-3, atol: 1e-5 }, `${k}.running_var`);
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
    const logits = await evalLogits(model, x, xShape);
    const want = refResNet18Eval(after.data, after.shapes, config, x, xShape);
    console.log(`[${config.stem}] eval logits scaled error ${scaledError(logits, want).toExponential(2)}`);
    expectClose(logits, want, LOGIT_TOL, 'eval logits');
  });
});

async function evalLogits(model: ResNet18, x: Float32Array, xShape: number[]): Promise<Float32Array> {
  model.eval();
  const logits = await scope(() => noGrad(async () => model.forward(Tensor.fromArray(rt, x, xShape, 'x')).toArray()));
  model.train();
  return logits;
}

interface TorchTrain {
  impl: string;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
  running: Record<string, number[]>;
  num_batches_tracked: Record<string, number>;
}

interface TorchExport {
  impl: string;
  keys: string[];
  eval_logits: number[];
}

// float64 on both sides, same operations in a different order: agreement to ~1e-12 expected.
const F64_TOL = 1e-9;

(torch.ok ? describe : describe.skip)(`PyTorch parity of ResNet18 (${torch.reason})`, () => {
  const results: Array<{ train: TorchTrain; exported: TorchExport; torchFile: string }> = [];
  beforeAll(() => {
    // One Python process for all jobs: importing torch takes seconds.
    const jobs: string[][] = [];
    for (const c of cases) {
      const torchFile = path.join(tmp!, `torch_${c.config.stem}.safetensors`);
      const cf = c.config;
      jobs.push(['train', c.wgmlFile!, c.batchFile!]);
      jobs.push(['export', torchFile, c.batchFile!, cf.stem, String(cf.width), String(cf.inChannels), String(cf.numClasses), String(c.seed)]);
    }
    const r = spawnSync(PY, [path.join(ROOT, 'scripts/torch/parity.py'), 'jobs', JSON.stringify(jobs)], { encoding: 'utf8', timeout: 300_000, maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`scripts/torch/parity.py failed (${r.status}): ${r.stderr || r.error?.message}`);
    const out = JSON.parse(r.stdout) as Array<TorchTrain | TorchExport>;
    cases.forEach((_, i) => results.push({ train: out[2 * i] as TorchTrain, exported: out[2 * i + 1] as TorchExport, torchFile: jobs[2 * i + 1]![1]! }));
  });

  describe.each(cases.map((c, i) => ({ c, i, stem: c.config.stem })))('$stem stem', ({ c, i }) => {
    it('wgml → torch: torch loads wgml\'s checkpoint (strict); its training step matches the GPU\'s logits, loss, gradients and running statistics, and the float64 reference to 1e-9', () => {
      const want = results[i]!.train;
      const { gpu, ref, after, model } = c;
      expectClose(gpu!.logits, want.logits, LOGIT_TOL, 'GPU logits vs torch');
      expect(Math.abs(gpu!.stats[0]! - want.loss)).toBeLessThan(1e-4 * Math.max(1, want.loss));
      expect(scaledError(ref!.logits, want.logits), 'reference logits vs torch').toBeLessThan(F64_TOL);
      expect(Math.abs(ref!.loss - want.loss)).toBeLessThan(F64_TOL);
      const names = model!.namedTensors().filter((t) => t.kind === 'parameter').map((t) => t.name);
      expect(Object.keys(want.grads)).toEqual(names); // same parameters, in torch's order
      let worstGpu = 0;
      let worstRef = 0;
      for (const k of names) {
        worstGpu = Math.max(worstGpu, expectScaledClose(gpu!.grads[k]!, want.grads[k]!, GRAD_TOL, `GPU grad ${k} vs torch`));
        worstRef = Math.max(worstRef, expectScaledClose(ref!.grads[k]!, want.grads[k]!, F64_TOL, `reference grad ${k} vs torch`));
      }
      console.log(`[${c.config.stem}] torch (${want.impl}): worst gradient error GPU ${worstGpu.toExponential(2)}, float64 reference ${worstRef.toExponential(2)} of scale`);
      expect(Object.keys(want.running).length).toBe(40);
      for (const [k, v] of Object.entries(want.running)) expectClose(after!.data[k]!, v, { rtol: 1e-3, atol: 1e-5 }, k);
      for (const cn of model!.namedCounters()) expect(Number(cn.get()), cn.name).toBe(want.num_batches_tracked[cn.name]);
    });

    it('torch → wgml: a state dict torch wrote (no wgml metadata) loads with the architecture inferred from its shapes and gives torch\'s eval-mode logits', async () => {
      const { exported: want, torchFile } = results[i]!;
      const loaded = await loadModelFile(rt, torchFile);
      expect(loaded.config).toEqual(c.config);
      expect(loaded.metadata).toEqual({ format: 'pt' });
      expect(loaded.model.namedTensors().map((t) => t.name)).toEqual(want.keys.filter((k) => !k.endsWith('num_batches_tracked')));
      for (const cn of loaded.model.namedCounters()) expect(cn.get(), cn.name).toBe(5n);
      expectClose(await evalLogits(loaded.model, c.x, c.xShape), want.eval_logits, LOGIT_TOL, 'eval logits');
      loaded.model.dispose();
    });
  });
});
