// Shared helpers of the test/nn suites: scale-relative comparison of whole tensors, reading a
// model's tensors back, one training-mode forward+backward, and the PyTorch probe.
import { expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { Module } from '../../src/nn/module.js';
import type { Runtime } from '../../src/kernels/runtime.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { Tape } from '../../src/nn/tape.js';
import { crossEntropyLoss } from '../../src/nn/ops/cross_entropy.js';

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
}

/**
 * One training-mode forward + weighted CE + backward of `model` (gradients overwrite: zeroGrad
 * first). Everything but the parameter gradients is freed before it returns.
 */
export async function gpuForwardBackward(
  rt: Runtime, model: Module & { forward(x: Tensor): Tensor }, x: Float32Array, xShape: number[], labels: Uint32Array, weights: Float32Array | null,
): Promise<GpuStep> {
  return scope(async () => {
    const xt = Tensor.fromArray(rt, x, xShape, 'x');
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
    return { logits: await logits.toArray(), stats: await stats.toArray(), grads };
  });
}

export const PY = '/usr/bin/python3';

/**
 * Whether /usr/bin/python3 has torch, and the reason that goes into a skipped describe's name.
 * Looks the package up without importing it (an import takes seconds on a busy machine); a torch
 * that is installed but fails to import then fails the tests instead of skipping them.
 */
export function probeTorch(): { ok: boolean; reason: string } {
  if (!fs.existsSync(PY)) return { ok: false, reason: `${PY} not found` };
  const code = [
    'import importlib.util, importlib.metadata',
    "spec = importlib.util.find_spec('torch')",
    "v = ''",
    'if spec:',
    '    try: v = importlib.metadata.version("torch")',
    "    except Exception: v = 'at ' + str(spec.origin)",
    'print(v)',
  ].join('\n');
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  const version = r.status === 0 ? r.stdout.trim() : '';
  if (version) return { ok: true, reason: `torch ${version}` };
  return { ok: false, reason: `${PY} has no torch (${(r.stderr || r.error?.message || 'find_spec found nothing').trim().split('\n').pop()})` };
}
