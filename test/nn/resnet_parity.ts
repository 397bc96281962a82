// What the ResNet18 checks against PyTorch share: the shapes, the batch, the tolerances and the
// comparisons. test/nn/resnet_gradcheck.test.ts (in `npm test`) runs them against golden fixtures
// PyTorch wrote (test/fixtures/parity, from scripts/torch/golden_fixtures.py);
// test/torch/resnet_parity.torch.test.ts (`npm run test:torch`) against a live torch.
import { expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../src/kernels/runtime.js';
import type { ResNet18, ResNet18Config } from '../../src/nn/resnet18.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { noGrad } from '../../src/nn/tape.js';
import { loadModelFile, type LoadedModel } from '../../src/nn/state_dict.js';
import { parseSafetensorsHeader, readSafetensorsSync } from '../../src/nn/safetensors.js';
import { expectClose } from '../helpers/compare.js';
import type { RefResNet18Result } from '../reference/resnet18.js';
import { refResNet18Eval } from '../reference/resnet18.js';
import { expectScaledClose, scaledError, type GpuStep } from './nn_test_utils.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Width 4, batch 2, 1 input channel, 4 classes. The cifar stem takes 16×16 (stages at 16², 8²,
// 4², 2²). The imagenet stem takes 48×48 (stem 24², pool 12², stages 12², 6², 3², 2²): at 16×16
// it would reach layer3 at 1×1, where BatchNorm over a batch of 2 maps every channel to ±γ+β
// whatever its input, so nothing upstream would get a meaningful gradient to check. 48 also puts
// an odd map (3×3) into a stride-2 conv. Seeds: wgml's init and input for the checks against the
// float64 reference; scripts/torch/golden_fixtures.py uses the same seeds for torch's init.
export const N = 2;
export const CASES: Array<{ config: ResNet18Config; size: number; seed: number }> = [
  { config: { stem: 'cifar', inChannels: 1, numClasses: 4, width: 4 }, size: 16, seed: 11 },
  { config: { stem: 'imagenet', inChannels: 1, numClasses: 4, width: 4 }, size: 48, seed: 12 },
];
export const LABELS = Uint32Array.of(1, 3);
export const WEIGHTS = Float32Array.of(0.7, 1.6); // non-uniform: wBackMix-style per-example weights

// Tolerances. Both sides compute the same sums; the GPU rounds in f32 (2^-24 ≈ 6e-8 per
// operation, growing like K·2^-24 for a K-term dot product, K ≤ 8w·9 = 288 here) through ~20
// conv/BN layers forward and again backward. BatchNorm's backward subtracts the batch means of
// dz and dz·x̂ from dz — a difference of similar-sized numbers that turns the absolute rounding
// error of the large terms into a large relative error of the small results — so gradients are
// compared against each tensor's scale: |gpu − ref| ≤ tol·max|ref|. Measured worst cases are
// quoted next to each bound; the bounds leave a few times margin for other drivers' FMA
// contraction and summation order. The same bounds hold against the float64 reference, against
// a live torch and against torch's golden fixtures: all three are float64 computations of the
// same network, which agree with each other to ~1e-14 (F64_TOL below).

// f32 logits after ~20 layers: worst measured 1.2e-6 of scale (SwiftShader, lavapipe); bound 1e-3
// relative + 1e-4 absolute (logits are O(1)).
export const LOGIT_TOL = { rtol: 1e-3, atol: 1e-4 };
/** |loss_gpu − loss| < LOSS_RTOL·max(1, loss). */
export const LOSS_RTOL = 1e-4;
// Parameter gradients, scale-relative: worst measured 8e-6 (cifar, layer2.1.bn1.bias) and 2e-5
// (imagenet, bn1.weight: the stem BN sums 2·24² = 1152 terms) on SwiftShader and lavapipe; bound
// 5e-4, 25× that, still far below what a wrong term of the backward produces (O(1e-1..1)). The
// input gradient passes through the same backward plus the stem conv's input gradient (K ≤ w·9
// or w·49/4 terms) and is held to the same bound.
export const GRAD_TOL = 5e-4;
// BN running statistics after one step: (1−m)·old + m·batch stat, f32 batch statistics (the
// corrected two-pass sums, relative error ~1e-6).
export const RUNNING_TOL = { rtol: 1e-3, atol: 1e-5 };
// float64 on both sides, same operations in a different order: agreement to ~1e-14 measured
// (2e-14 of scale), ~1e-12 expected; bound 1e-9.
export const F64_TOL = 1e-9;

/** One training step as torch computed it (float64): parity.py's `train` output, or a golden fixture. */
export interface TorchStep {
  impl: string;
  logits: ArrayLike<number>;
  loss: number;
  grads: Record<string, ArrayLike<number>>;
  x_grad: ArrayLike<number>;
  /** `<bn>.running_mean` / `<bn>.running_var` after the step. */
  running: Record<string, ArrayLike<number>>;
  num_batches_tracked: Record<string, number>;
}

/** wgml's side of the same step: the GPU (with the input gradient), the float64 reference, the model after. */
export interface WgmlStep {
  model: ResNet18;
  gpu: GpuStep;
  ref: RefResNet18Result;
  after: Record<string, Float32Array>;
}

/**
 * Asserts that wgml's GPU step matches torch's at the f32 tolerances — logits, loss, every
 * parameter gradient, the input gradient, BN running statistics and counters — and that the
 * float64 reference matches torch to F64_TOL (so the reference is torch's network).
 */
export function expectMatchesTorchStep(stem: string, w: WgmlStep, want: TorchStep): void {
  const { model, gpu, ref, after } = w;
  expectClose(gpu.logits, want.logits, LOGIT_TOL, 'GPU logits vs torch');
  expect(Math.abs(gpu.stats[0]! - want.loss)).toBeLessThan(LOSS_RTOL * Math.max(1, want.loss));
  expect(scaledError(ref.logits, want.logits), 'reference logits vs torch').toBeLessThan(F64_TOL);
  expect(Math.abs(ref.loss - want.loss)).toBeLessThan(F64_TOL);
  const names = model.namedTensors().filter((t) => t.kind === 'parameter').map((t) => t.name);
  expect(names.length).toBe(62); // 20 convs + 20 BN (γ, β) + fc (W, b)
  expect(Object.keys(want.grads)).toEqual(names); // same parameters, in torch's order
  let worstGpu = 0;
  let worstRef = 0;
  for (const k of names) {
    worstGpu = Math.max(worstGpu, expectScaledClose(gpu.grads[k]!, want.grads[k]!, GRAD_TOL, `GPU grad ${k} vs torch`));
    worstRef = Math.max(worstRef, expectScaledClose(ref.grads[k]!, want.grads[k]!, F64_TOL, `reference grad ${k} vs torch`));
  }
  const xGpu = expectScaledClose(gpu.xGrad!, want.x_grad, GRAD_TOL, 'GPU input gradient vs torch');
  const xRef = expectScaledClose(ref.xGrad, want.x_grad, F64_TOL, 'reference input gradient vs torch');
  console.log(
    `[${stem}] torch (${want.impl}): worst gradient error GPU ${worstGpu.toExponential(2)}, float64 reference ${worstRef.toExponential(2)}; ` +
      `input gradient GPU ${xGpu.toExponential(2)}, reference ${xRef.toExponential(2)} of scale`,
  );
  expect(Object.keys(want.running).length).toBe(40);
  for (const [k, v] of Object.entries(want.running)) expectClose(after[k]!, v, RUNNING_TOL, k);
  const counters = model.namedCounters();
  expect(counters.length).toBe(20);
  for (const cn of counters) expect(Number(cn.get()), cn.name).toBe(want.num_batches_tracked[cn.name]);
}

export async function evalLogits(rt: Runtime, model: ResNet18, x: Float32Array, xShape: number[]): Promise<Float32Array> {
  model.eval();
  const logits = await scope(() => noGrad(async () => model.forward(Tensor.fromArray(rt, x, xShape, 'x')).toArray()));
  model.train();
  return logits;
}

/** What torch wrote and saw for the direction torch → wgml: its state-dict keys and eval-mode logits. */
export interface TorchExport {
  impl: string;
  keys: string[];
  eval_logits: ArrayLike<number>;
}

/**
 * Loads a state dict torch wrote (no wgml metadata) and asserts that wgml infers `config` from
 * its shapes, holds torch's keys in torch's order, every num_batches_tracked = `counter`, and
 * that eval mode gives torch's logits (GPU at LOGIT_TOL; float64 reference to F64_TOL). The
 * caller disposes the model.
 */
export async function expectLoadsTorchExport(
  rt: Runtime, file: string, config: ResNet18Config, want: TorchExport, counter: bigint, x: Float32Array, xShape: number[],
): Promise<LoadedModel> {
  const loaded = await loadModelFile(rt, file);
  expect(loaded.config).toEqual(config);
  expect(loaded.metadata).toEqual({ format: 'pt' });
  expect(loaded.model.namedTensors().map((t) => t.name)).toEqual(want.keys.filter((k) => !k.endsWith('num_batches_tracked')));
  for (const cn of loaded.model.namedCounters()) expect(cn.get(), cn.name).toBe(counter);
  expectClose(await evalLogits(rt, loaded.model, x, xShape), want.eval_logits, LOGIT_TOL, 'eval logits vs torch');
  const { tensors } = readSafetensorsSync(file);
  const data = Object.fromEntries(Object.entries(tensors).filter(([, t]) => t.dtype === 'F32').map(([k, t]) => [k, t.data as Float32Array]));
  const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]));
  const refEval = refResNet18Eval(data, shapes, config, x, xShape);
  expect(scaledError(refEval, want.eval_logits), 'reference eval logits vs torch').toBeLessThan(F64_TOL);
  return loaded;
}

// ------------------------------------------------------------------------------------------------
// Golden fixtures (scripts/torch/golden_fixtures.py).

export const PARITY_FIXTURES = path.join(ROOT, 'test/fixtures/parity');

export interface ParityFixture {
  config: ResNet18Config;
  /** The checkpoint torch wrote. */
  checkpoint: string;
  x: Float32Array;
  xShape: number[];
  labels: Uint32Array;
  weights: Float32Array;
  exported: TorchExport;
  train: TorchStep;
}

/** Reads every F64 tensor of a safetensors file exactly (wgml's reader narrows F64 to F32). */
export function readF64Tensors(file: string): Record<string, Float64Array> {
  const bytes = fs.readFileSync(file);
  const h = parseSafetensorsHeader(bytes, bytes.length, { source: file });
  const out: Record<string, Float64Array> = {};
  for (const e of h.entries) {
    if (e.dtype !== 'F64') continue;
    const raw = bytes.subarray(h.dataStart + e.begin, h.dataStart + e.end);
    out[e.name] = new Float64Array(Uint8Array.from(raw).buffer); // copy: aligned, little-endian host
  }
  return out;
}

export function readParityFixture(stem: string, width = 4): ParityFixture {
  const base = path.join(PARITY_FIXTURES, `resnet18_${stem}_w${width}`);
  const file = `${base}.expected.safetensors`;
  const { tensors, metadata } = readSafetensorsSync(file);
  if (!metadata) throw new Error(`${file}: no metadata`);
  const f64 = readF64Tensors(file);
  const pick = (prefix: string) =>
    Object.fromEntries(Object.entries(f64).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const keys = JSON.parse(metadata.keys!) as string[];
  const grads = pick('grad.');
  const xGrad = grads.x!;
  delete grads.x;
  // In torch's parameter order (the checkpoint's key order without buffers), as parity.py reports them.
  const orderedGrads = Object.fromEntries(keys.filter((k) => k in grads).map((k) => [k, grads[k]!]));
  const x = tensors.x!;
  const after = Number(metadata.num_batches_tracked_after);
  return {
    config: JSON.parse(metadata.config!) as ResNet18Config,
    checkpoint: `${base}.safetensors`,
    x: x.data as Float32Array,
    xShape: x.shape,
    labels: Uint32Array.from(tensors.labels!.data as BigInt64Array, Number),
    weights: tensors.weights!.data as Float32Array,
    exported: { impl: metadata.impl!, keys, eval_logits: f64['eval.logits']! },
    train: {
      impl: metadata.impl!,
      logits: f64['train.logits']!,
      loss: f64['train.loss']![0]!,
      grads: orderedGrads,
      x_grad: xGrad,
      running: pick('running.'),
      num_batches_tracked: Object.fromEntries(keys.filter((k) => k.endsWith('num_batches_tracked')).map((k) => [k, after])),
    },
  };
}
