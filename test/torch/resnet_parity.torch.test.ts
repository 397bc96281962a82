// ResNet18 parity against a live PyTorch, both stems, both directions (scripts/torch/parity.py,
// float64 in torch):
//   wgml → torch: torch loads the checkpoint wgml wrote (load_state_dict strict) and runs the same
//     training step; its logits, loss, every parameter gradient, the input gradient and the BN
//     running statistics match the GPU's at the f32 tolerances and the float64 reference to 1e-9;
//   torch → wgml: a state dict torch wrote, without wgml metadata, loads with the architecture
//     inferred from its shapes and gives torch's eval-mode logits.
// `npm test` checks the same against golden fixtures (test/nn/resnet_gradcheck.test.ts (e)); this
// file adds what a fixture cannot: torch reading wgml's checkpoint, on wgml's own init.
// Shapes, tolerances and comparisons: test/nn/resnet_parity.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Runtime } from '../../src/kernels/runtime.js';
import { ResNet18 } from '../../src/nn/resnet18.js';
import { saveModel } from '../../src/nn/state_dict.js';
import { writeSafetensors } from '../../src/nn/safetensors.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { refResNet18LossAndGrads } from '../reference/resnet18.js';
import { gpuForwardBackward, readModel } from '../nn/nn_test_utils.js';
import {
  CASES, N, LABELS, WEIGHTS, expectLoadsTorchExport, expectMatchesTorchStep, type TorchExport, type TorchStep, type WgmlStep,
} from '../nn/resnet_parity.js';
import { runTorchScript } from './torch_utils.js';

let rt: Runtime;
let tmp: string;
beforeAll(async () => {
  rt = await gpuRuntime();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-resnet-parity-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(CASES.map((c) => ({ ...c, stem: c.config.stem })))('PyTorch parity of ResNet18, $stem stem (live torch)', ({ config, size, seed }) => {
  const xShape = [N, config.inChannels, size, size];
  const x = uniform(N * config.inChannels * size * size, seed, -1, 1);
  let wgml: WgmlStep;
  let train: TorchStep;
  let exported: TorchExport;
  const torchFile = () => path.join(tmp, `torch_${config.stem}.safetensors`);

  beforeAll(async () => {
    const model = new ResNet18(rt, config, seed);
    const init = await readModel(model);
    const wgmlFile = path.join(tmp, `wgml_${config.stem}.safetensors`);
    await saveModel(wgmlFile, model);
    const batchFile = path.join(tmp, `batch_${config.stem}.safetensors`);
    await writeSafetensors(batchFile, {
      x: { dtype: 'F32', shape: xShape, data: x },
      labels: { dtype: 'I64', shape: [N], data: BigInt64Array.from(LABELS, (v) => BigInt(v)) },
      weights: { dtype: 'F32', shape: [N], data: WEIGHTS },
    });
    const gpu = await gpuForwardBackward(rt, model, x, xShape, LABELS, WEIGHTS, { inputGrad: true });
    const after = (await readModel(model)).data;
    const params = Object.fromEntries(init.params.map((k) => [k, init.data[k]!]));
    const ref = refResNet18LossAndGrads(params, init.shapes, config, x, xShape, LABELS, WEIGHTS);
    wgml = { model, gpu, ref, after };
    // One Python process for both jobs: importing torch takes seconds.
    const jobs = [
      ['train', wgmlFile, batchFile],
      ['export', torchFile(), batchFile, config.stem, String(config.width), String(config.inChannels), String(config.numClasses), String(seed)],
    ];
    [train, exported] = JSON.parse(runTorchScript('parity.py', ['jobs', JSON.stringify(jobs)])) as [TorchStep, TorchExport];
  });
  afterAll(() => wgml?.model.dispose());

  it('wgml → torch: torch loads wgml\'s checkpoint (strict); its training step matches the GPU\'s logits, loss, gradients (parameters and input) and running statistics, and the float64 reference to 1e-9', () => {
    // The comparisons live in test/nn/resnet_parity.ts, shared with the golden-fixture test.
    expect.hasAssertions();
    // The torch side is a real training step of the named BasicBlock implementation.
    expect(train.impl).toMatch(/^(torchvision|hand-written) BasicBlock$/);
    expect(Array.from(train.logits)).toHaveLength(N * config.numClasses);
    expectMatchesTorchStep(config.stem, wgml, train);
  });

  it('torch → wgml: a state dict torch wrote (no wgml metadata) loads with the architecture inferred from its shapes and gives torch\'s eval-mode logits', async () => {
    expect.hasAssertions();
    expect(Array.from(exported.eval_logits)).toHaveLength(N * config.numClasses);
    const loaded = await expectLoadsTorchExport(rt, torchFile(), config, exported, 5n, x, xShape);
    loaded.model.dispose();
  });
});
