// PyTorch parity of ResNet18 (both stems, width 4, batch 2), in both directions, through
// safetensors files and scripts/torch/parity.py (float64 in torch):
//   wgml → torch: torch loads the checkpoint wgml wrote (strict) and runs the same training-mode
//     step; logits, loss, every parameter gradient and every BN running statistic agree.
//   torch → wgml: a state dict torch wrote (no wgml metadata) loads with loadModelFile, which
//     infers the architecture from the shapes; eval-mode logits agree.
// Runs where /usr/bin/python3 imports torch (CI installs python3-torch); elsewhere the describe
// block is reported as skipped, with the reason in its name.
//
// Tolerances are those of resnet_gradcheck.test.ts (the same f32-vs-float64 comparison, there
// against wgml's own float64 reference): logits 1e-3 relative + 1e-4 absolute, gradients 5e-4
// of each tensor's scale, running statistics 1e-3 relative + 1e-5 absolute.
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
import { PY, probeTorch, expectScaledClose, gpuForwardBackward, readModel } from './nn_test_utils.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const torch = probeTorch();
if (!torch.ok) console.warn(`[torch_parity.test] PyTorch parity tests skipped: ${torch.reason}`);

function parity<T>(...args: string[]): T {
  const r = spawnSync(PY, [path.join(ROOT, 'scripts/torch/parity.py'), ...args], { encoding: 'utf8', timeout: 300_000, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`parity.py ${args[0]} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as T;
}

interface TrainResult {
  impl: string;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
  running: Record<string, number[]>;
  num_batches_tracked: Record<string, number>;
}

interface ExportResult {
  impl: string;
  keys: string[];
  eval_logits: number[];
}

const LOGIT_TOL = { rtol: 1e-3, atol: 1e-4 };
const GRAD_TOL = 5e-4;

const CASES: Array<{ config: ResNet18Config; size: number; seed: number }> = [
  { config: { stem: 'cifar', inChannels: 1, numClasses: 4, width: 4 }, size: 16, seed: 71 },
  // 48×48 keeps layer4 at 2×2 (see resnet_gradcheck.test.ts on BatchNorm over 1×1 maps).
  { config: { stem: 'imagenet', inChannels: 1, numClasses: 4, width: 4 }, size: 48, seed: 72 },
];

let rt: Runtime;
let tmp: string;
const N = 2;
const LABELS = Uint32Array.of(2, 1);
const WEIGHTS = Float32Array.of(1.4, 0.45); // non-uniform per-example weights (wBackMix)

interface Case {
  config: ResNet18Config;
  xShape: number[];
  x: Float32Array;
  seed: number;
  model?: ResNet18;
  train?: TrainResult;
  exported?: ExportResult;
  torchFile?: string;
}
const cases: Case[] = CASES.map(({ config, size, seed }) => {
  const xShape = [N, config.inChannels, size, size];
  return { config, xShape, x: uniform(xShape.reduce((a, b) => a * b, 1), seed), seed };
});

(torch.ok ? describe : describe.skip)(`PyTorch parity of ResNet18 (${torch.reason})`, () => {
  beforeAll(async () => {
    rt = await gpuRuntime();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-torch-parity-'));
    // Every file first, then one Python process for all jobs (importing torch takes seconds).
    const jobs: string[][] = [];
    for (const c of cases) {
      const stem = c.config.stem;
      const batch = path.join(tmp, `batch_${stem}.safetensors`);
      await writeSafetensors(batch, {
        x: { dtype: 'F32', shape: c.xShape, data: c.x },
        labels: { dtype: 'I64', shape: [N], data: BigInt64Array.from(LABELS, (v) => BigInt(v)) },
        weights: { dtype: 'F32', shape: [N], data: WEIGHTS },
      });
      c.model = new ResNet18(rt, c.config, c.seed);
      const wgmlFile = path.join(tmp, `wgml_${stem}.safetensors`);
      await saveModel(wgmlFile, c.model);
      c.torchFile = path.join(tmp, `torch_${stem}.safetensors`);
      jobs.push(['train', wgmlFile, batch]);
      jobs.push(['export', c.torchFile, batch, stem, String(c.config.width), String(c.config.inChannels), String(c.config.numClasses), String(c.seed)]);
    }
    const results = parity<Array<TrainResult | ExportResult>>('jobs', JSON.stringify(jobs));
    cases.forEach((c, i) => {
      c.train = results[2 * i] as TrainResult;
      c.exported = results[2 * i + 1] as ExportResult;
    });
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe.each(cases)('$config.stem stem, input $xShape', (c) => {
    it('wgml → torch: torch loads wgml\'s checkpoint; one training-mode step gives the same logits, loss, gradients and running statistics', async () => {
      const model = c.model!;
      const want = c.train!;
      const gpu = await gpuForwardBackward(rt, model, c.x, c.xShape, LABELS, WEIGHTS);
      expectClose(gpu.logits, want.logits, LOGIT_TOL, 'logits');
      expect(Math.abs(gpu.stats[0]! - want.loss)).toBeLessThan(1e-4 * Math.max(1, want.loss));
      const names = model.namedTensors().filter((t) => t.kind === 'parameter').map((t) => t.name);
      expect(Object.keys(want.grads)).toEqual(names); // same parameters, in torch's order
      let worst = 0;
      for (const k of names) worst = Math.max(worst, expectScaledClose(gpu.grads[k]!, want.grads[k]!, GRAD_TOL, `grad ${k}`));
      console.log(`[${c.config.stem}] ${want.impl}: worst gradient error ${worst.toExponential(2)} of scale`);
      const after = await readModel(model);
      expect(Object.keys(want.running).length).toBe(40);
      for (const [k, v] of Object.entries(want.running)) expectClose(after.data[k]!, v, { rtol: 1e-3, atol: 1e-5 }, k);
      for (const cn of model.namedCounters()) expect(Number(cn.get()), cn.name).toBe(want.num_batches_tracked[cn.name]);
      model.dispose();
    });

    it('torch → wgml: a state dict torch wrote (no wgml metadata) loads with the architecture inferred from its shapes, and gives the same eval-mode logits', async () => {
      const want = c.exported!;
      const loaded = await loadModelFile(rt, c.torchFile!);
      expect(loaded.config).toEqual(c.config);
      expect(loaded.metadata).toEqual({ format: 'pt' });
      expect(loaded.model.namedTensors().map((t) => t.name)).toEqual(want.keys.filter((k) => !k.endsWith('num_batches_tracked')));
      for (const cn of loaded.model.namedCounters()) expect(cn.get(), cn.name).toBe(5n);
      loaded.model.eval();
      const logits = await scope(() => noGrad(async () => loaded.model.forward(Tensor.fromArray(rt, c.x, c.xShape, 'x')).toArray()));
      expectClose(logits, want.eval_logits, LOGIT_TOL, 'eval logits');
      loaded.model.dispose();
    });
  });
});
