// PyTorch reads what wgml writes, checked with a live torch: scripts/torch/read_check.py parses
// wgml's files with the strict hand parser (st_format.py, or the `safetensors` package when
// installed), reports the layout, and loads ResNet18 checkpoints into a width-64 torchvision
// ResNet18 (or its pure-torch replica) with load_state_dict(strict=True). `npm test` checks the
// layout byte for byte against files torch wrote (test/nn/safetensors.test.ts); this file adds
// the torch of this machine actually reading wgml's files.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../src/nn/safetensors.js';
import type { ResNet18Config } from '../../src/nn/state_dict_names.js';
import { uniform } from '../helpers/random.js';
import { randomResNet18 } from '../nn/nn_test_utils.js';
import { runTorchScript } from './torch_utils.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-safetensors-torch-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface CheckSummary {
  ok: boolean;
  parser: string;
  format: { header_padding: string; header_length_multiple_of_8: boolean; metadata_first: boolean; canonical_order: boolean };
  metadata: Record<string, string> | null;
  tensors: Record<string, { dtype: string; shape: number[]; sum: number | string; abs_sum?: number; values_head: Array<number | string> }>;
  resnet18?: { impl: string; loaded: boolean; error?: string; missing?: string[]; unexpected?: string[]; state_dict_sums?: Record<string, number | string>; forward_shape?: number[]; forward_finite?: boolean };
}

function readCheck(file: string, ...extra: string[]): CheckSummary {
  return JSON.parse(runTorchScript('read_check.py', [file, ...extra])) as CheckSummary;
}

function f64Sum(a: Float32Array): { sum: number; abs: number } {
  let sum = 0;
  let abs = 0;
  for (const v of a) {
    sum += v;
    abs += Math.abs(v);
  }
  return { sum, abs };
}

describe('PyTorch reads what wgml writes (live torch)', () => {
  it('mixed dtypes, 0-dim/empty tensors and metadata arrive intact in torch; layout is the reference writer\'s', async () => {
    const file = path.join(tmp, 'mixed.safetensors');
    const tensors: Record<string, TensorToWrite> = {
      'conv1.weight': { dtype: 'F32', shape: [3, 2, 3, 3], data: uniform(54, 7) },
      'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(-9007199254740993n) },
      ids: { dtype: 'I32', shape: [3], data: Int32Array.of(-5, 0, 2147483647) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      Zed: { dtype: 'F32', shape: [], data: Float32Array.of(-0.125) },
    };
    const metadata = { format: 'pt', note: 'é ✓ "q"\n' };
    await writeSafetensors(file, tensors, metadata);
    const s = readCheck(file);
    expect(s.ok).toBe(true);
    expect(s.format).toMatchObject({ header_padding: 'spaces', header_length_multiple_of_8: true, metadata_first: true, canonical_order: true });
    expect(s.metadata).toEqual(metadata);
    expect(Object.keys(s.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors)) {
      expect(s.tensors[k]!.dtype, k).toBe(t.dtype);
      expect(s.tensors[k]!.shape, k).toEqual(t.shape);
    }
    expect(s.tensors['bn1.num_batches_tracked']!.values_head).toEqual(['-9007199254740993']);
    expect(s.tensors.ids!.values_head).toEqual(['-5', '0', '2147483647']);
    expect(s.tensors.Zed!.values_head).toEqual([-0.125]);
    const { sum, abs } = f64Sum(tensors['conv1.weight']!.data as Float32Array);
    expect(s.tensors['conv1.weight']!.sum as number).toBeCloseTo(sum, 10);
    expect(s.tensors['conv1.weight']!.abs_sum as number).toBeCloseTo(abs, 10);
  });

  const cases: ResNet18Config[] = [
    { stem: 'cifar', inChannels: 1, numClasses: 4 },
    { stem: 'imagenet', inChannels: 3, numClasses: 10 },
  ];
  for (const config of cases) {
    it(`a wgml ResNet18 checkpoint (${config.stem}, ${config.inChannels} ch, ${config.numClasses} classes) loads into torch with load_state_dict(strict=True)`, async () => {
      const file = path.join(tmp, `resnet18_${config.stem}.safetensors`);
      const sd = randomResNet18(config, 100);
      await writeSafetensors(file, sd, { format: 'pt' });
      const s = readCheck(file, '--resnet18', config.stem, String(config.inChannels), String(config.numClasses));
      const r = s.resnet18!;
      expect(r.error).toBeUndefined();
      expect(r.loaded).toBe(true);
      expect(r.missing).toEqual([]);
      expect(r.unexpected).toEqual([]);
      expect(r.forward_shape).toEqual([2, config.numClasses]);
      expect(r.forward_finite).toBe(true);
      // the loaded model's own state_dict holds our values
      expect(Object.keys(r.state_dict_sums!).sort()).toEqual(Object.keys(sd).sort());
      for (const [k, t] of Object.entries(sd)) {
        const got = r.state_dict_sums![k]!;
        if (t.dtype === 'I64') expect(got, k).toBe(String(t.data[0]));
        else {
          const { sum, abs } = f64Sum(t.data as Float32Array);
          expect(Math.abs((got as number) - sum), k).toBeLessThanOrEqual(1e-9 * Math.max(1, abs));
        }
      }
    });
  }
});
