// Shared helpers of the test/nn suites: scale-relative comparison of whole tensors, reading a
// model's tensors back, one training-mode forward+backward, a random ResNet18 state dict.
import { expect } from 'vitest';
import type { Module } from '../../src/nn/module.js';
import type { Runtime } from '../../src/kernels/runtime.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { Tape } from '../../src/nn/tape.js';
import { crossEntropyLoss } from '../../src/nn/ops/cross_entropy.js';
import type { TensorToWrite } from '../../src/nn/safetensors.js';
import { resnet18StateDictEntries, type ResNet18Config } from '../../src/nn/state_dict_names.js';
import { uniform } from '../helpers/random.js';

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** max_i |got_i − want_i| / max_i |want_i|: the error measured against the tensor's scale. */
export function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    e = Number.isNaN(d) ? Infinity : Math.max(e, d);
  }
  const s = maxAbs(want);
  return s === 0 ? e : e / s;
}

/**
 * Asserts |got − want| ≤ tol·max|want| for every element: errors judged against the tensor's
 * scale rather than each element's, because gradients through BatchNorm are differences of
 * comparable sums and small elements carry the absolute rounding error of the large ones.
 */
export function expectScaledClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): number {
  expect(got.length, `${what}: length`).toBe(want.length);
  const scale = maxAbs(want);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol * scale) && (worst < 0 || d > worstErr || Number.isNaN(d))) {
      worst = i;
      worstErr = d;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}[${worst}] = ${got[worst]} but expected ${want[worst]}: |diff| ${worstErr.toExponential(2)} > ${tol} × scale ${scale.toExponential(3)}`);
  }
  return scaledError(got, want);
}

/** Every parameter and buffer of `model`, read back as f32 arrays, with shapes. */
export async function readModel(model: Module): Promise<{ data: Record<string, Float32Array>; shapes: Record<string, number[]>; params: string[] }> {
  const data: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  const params: string[] = [];
  for (const { name, tensor, kind } of model.namedTensors()) {
    data[name] = await tensor.toArray();
    shapes[name] = [...tensor.shape];
    if (kind === 'parameter') params.push(name);
  }
  return { data, shapes, params };
}

export interface GpuStep {
  logits: Float32Array;
  /** [loss, Σ w·CE, Σ CE, correct] from the CE kernel. */
  stats: Float32Array;
  grads: Record<string, Float32Array>;
  /** d(loss)/d(x), when asked for with `inputGrad`. */
  xGrad?: Float32Array;
}

/**
 * One training-mode forward + weighted CE + backward of `model` (gradients overwrite: zeroGrad
 * first). Everything but the parameter gradients is freed before it returns. With `inputGrad`
 * the input takes part in the backward too and its gradient is returned.
 */
export async function gpuForwardBackward(
  rt: Runtime, model: Module & { forward(x: Tensor): Tensor }, x: Float32Array, xShape: number[], labels: Uint32Array, weights: Float32Array | null,
  opts: { inputGrad?: boolean } = {},
): Promise<GpuStep> {
  return scope(async () => {
    const xt = Tensor.fromArray(rt, x, xShape, 'x');
    xt.requiresGrad = opts.inputGrad ?? false;
    const yt = Tensor.fromArray(rt, labels, [labels.length], 'labels');
    const wt = weights ? Tensor.fromArray(rt, weights, [weights.length], 'weights') : null;
    model.zeroGrad();
    const tape = new Tape().start();
    const logits = model.forward(xt);
    const { stats } = crossEntropyLoss(logits, { labels: yt, weights: wt });
    tape.backward();
    const grads: Record<string, Float32Array> = {};
    for (const { name, tensor, kind } of model.namedTensors()) {
      if (kind !== 'parameter') continue;
      if (!tensor.grad) throw new Error(`no gradient for ${name}`);
      grads[name] = await tensor.grad.toArray();
    }
    const xGrad = opts.inputGrad ? await xt.grad!.toArray() : undefined;
    xt.grad?.dispose(); // kept past the scope by the tape, like a parameter's
    return { logits: await logits.toArray(), stats: await stats.toArray(), grads, ...(xGrad ? { xGrad } : {}) };
  });
}

/** A full ResNet18 state dict of random values with torchvision's names (what a wgml checkpoint holds). */
export function randomResNet18(config: ResNet18Config, seed: number): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [i, e] of resnet18StateDictEntries(config).entries()) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.dtype === 'I64') out[e.name] = { dtype: 'I64', shape: e.shape, data: BigInt64Array.of(BigInt(1000 + i)) };
    else if (e.name.endsWith('running_var')) out[e.name] = { dtype: 'F32', shape: e.shape, data: uniform(n, seed + i, 0.5, 1.5) };
    else out[e.name] = { dtype: 'F32', shape: e.shape, data: uniform(n, seed + i, -0.05, 0.05) };
  }
  return out;
}
