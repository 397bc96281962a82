// Model checkpoints: saveModel → loadModelFile gives back the same tensors, counters, config and
// logits; files of another architecture are refused with messages that name the key and shapes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Runtime } from '../../src/kernels/runtime.js';
import { ResNet18, type ResNet18Config } from '../../src/nn/resnet18.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { noGrad } from '../../src/nn/tape.js';
import { saveModel, loadModelFile, exportStateDict, importStateDict } from '../../src/nn/state_dict.js';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { gpuForwardBackward, readModel } from './nn_test_utils.js';

let rt: Runtime;
let tmp: string;
beforeAll(async () => {
  rt = await gpuRuntime();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-state-dict-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const config: ResNet18Config = { stem: 'cifar', inChannels: 1, numClasses: 4, width: 4 };
const xShape = [2, 1, 12, 12];
const x = uniform(2 * 144, 61);

async function logitsOf(model: ResNet18, training: boolean): Promise<Float32Array> {
  model.train(training);
  // noGrad: no tape; in training mode BN still normalises with batch statistics (and updates the
  // running ones, which is why eval mode is read first below).
  const out = await scope(() => noGrad(async () => model.forward(Tensor.fromArray(rt, x, xShape, 'x')).toArray()));
  model.train();
  return out;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

describe('saveModel → loadModelFile', () => {
  let model: ResNet18;
  let file: string;
  beforeAll(async () => {
    model = new ResNet18(rt, config, 21);
    // One training step so the running statistics and num_batches_tracked are not the defaults.
    await gpuForwardBackward(rt, model, x, xShape, Uint32Array.of(0, 3), null);
    file = path.join(tmp, 'model.safetensors');
    await saveModel(file, model, { epoch: '7' }, ['PLAX', 'PSAX', 'A4C', 'A2C']);
  });

  it('gives identical parameters, buffers, counters, config, classes and metadata', async () => {
    const loaded = await loadModelFile(rt, file);
    expect(loaded.config).toEqual(config);
    expect(loaded.classes).toEqual(['PLAX', 'PSAX', 'A4C', 'A2C']);
    expect(loaded.metadata).toMatchObject({ format: 'pt', 'wgml.arch': 'resnet18', epoch: '7' });
    const a = await readModel(model);
    const b = await readModel(loaded.model);
    expect(Object.keys(b.data)).toEqual(Object.keys(a.data));
    expect(b.params).toEqual(a.params);
    for (const k of Object.keys(a.data)) {
      expect(b.shapes[k], k).toEqual(a.shapes[k]);
      expect(Array.from(bits(b.data[k]!)), k).toEqual(Array.from(bits(a.data[k]!)));
    }
    const counters = (m: ResNet18) => m.namedCounters().map((c) => [c.name, c.get()]);
    expect(counters(loaded.model)).toEqual(counters(model));
    expect(model.bn1.numBatchesTracked).toBe(1n);
    loaded.model.dispose();
  });

  it('gives identical logits in eval and training mode', async () => {
    const loaded = await loadModelFile(rt, file);
    const a = [await logitsOf(model, false), await logitsOf(model, true)];
    const b = [await logitsOf(loaded.model, false), await logitsOf(loaded.model, true)];
    expect(Array.from(bits(b[0]!))).toEqual(Array.from(bits(a[0]!)));
    expect(Array.from(bits(b[1]!))).toEqual(Array.from(bits(a[1]!)));
    // The two modes differ (running vs batch statistics), so the comparison above covers both.
    expect(Array.from(a[0]!)).not.toEqual(Array.from(a[1]!));
    loaded.model.dispose();
  });

  it('writes torchvision names, F32 tensors and I64 num_batches_tracked', async () => {
    const { tensors } = await readSafetensors(file);
    expect(tensors['layer2.0.downsample.0.weight']!.shape).toEqual([8, 4, 1, 1]);
    expect(tensors['fc.weight']!.shape).toEqual([4, 32]);
    const nbt = tensors['layer4.1.bn2.num_batches_tracked']!;
    expect(nbt.dtype).toBe('I64');
    expect(nbt.shape).toEqual([]);
    expect(Array.from(nbt.data as BigInt64Array)).toEqual([1n]);
    expect(Object.keys(tensors).length).toBe(122); // 62 parameters + 20 × (mean, var, count)
  });

  it('infers the architecture from the shapes when the file has no wgml metadata', async () => {
    const bare = path.join(tmp, 'bare.safetensors');
    await writeSafetensors(bare, await exportStateDict(model));
    const loaded = await loadModelFile(rt, bare);
    expect(loaded.config).toEqual(config);
    expect(loaded.classes).toBeNull();
    expect(Array.from(bits(await logitsOf(loaded.model, false)))).toEqual(Array.from(bits(await logitsOf(model, false))));
    loaded.model.dispose();
  });
});

describe('loading a file of another architecture fails, naming the key and both shapes', () => {
  let file: string;
  let tensors: Awaited<ReturnType<typeof readSafetensors>>['tensors'];
  beforeAll(async () => {
    const model = new ResNet18(rt, config, 22);
    file = path.join(tmp, 'cifar_w4.safetensors');
    await saveModel(file, model);
    tensors = (await readSafetensors(file)).tensors;
    model.dispose();
  });

  it('into a model of another width', () => {
    const other = new ResNet18(rt, { ...config, width: 8 }, 0);
    expect(() => importStateDict(other, tensors, file)).toThrow(/conv1\.weight has shape \[4,1,3,3\], the model expects \[8,1,3,3\]/);
    other.dispose();
  });

  it('into a model of the other stem', () => {
    const other = new ResNet18(rt, { ...config, stem: 'imagenet' }, 0);
    expect(() => importStateDict(other, tensors, file)).toThrow(/conv1\.weight has shape \[4,1,3,3\], the model expects \[4,1,7,7\]/);
    other.dispose();
  });

  it('into a model with another number of classes or input channels', () => {
    const classes = new ResNet18(rt, { ...config, numClasses: 3 }, 0);
    expect(() => importStateDict(classes, tensors, file)).toThrow(/fc\.weight has shape \[4,32\], the model expects \[3,32\]/);
    classes.dispose();
    const rgb = new ResNet18(rt, { ...config, inChannels: 3 }, 0);
    expect(() => importStateDict(rgb, tensors, file)).toThrow(/conv1\.weight has shape \[4,1,3,3\], the model expects \[4,3,3,3\]/);
    rgb.dispose();
  });

  it('when the file\'s metadata claims another architecture than its tensors have', async () => {
    const lying = path.join(tmp, 'lying.safetensors');
    const exported = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.data }])) as Parameters<typeof writeSafetensors>[1];
    await writeSafetensors(lying, exported, { 'wgml.config': JSON.stringify({ ...config, stem: 'imagenet' }) });
    await expect(loadModelFile(rt, lying)).rejects.toThrow(/shape mismatch for conv1\.weight: expected \[4,1,7,7\], found \[4,1,3,3\]/);
  });

  it('when a key is missing or unexpected', async () => {
    const partial = { ...tensors };
    delete partial['layer3.1.bn2.running_var'];
    const model = new ResNet18(rt, config, 0);
    expect(() => importStateDict(model, partial, 'partial.safetensors')).toThrow(/partial\.safetensors.*missing keys: layer3\.1\.bn2\.running_var/);
    expect(() => importStateDict(model, { ...tensors, 'layer5.0.conv1.weight': tensors['conv1.weight']! }, 'extra.safetensors')).toThrow(
      /unexpected keys: layer5\.0\.conv1\.weight/,
    );
    model.dispose();
  });
});
