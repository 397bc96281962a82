import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertStateDict,
  checkStateDict,
  fromBackMixReferenceKey,
  inferConfigFromShapes,
  resnet18ParameterCount,
  resnet18StateDictEntries,
  resnet18StateDictShapes,
  shapesOf,
  toBackMixReferenceKey,
  type ResNet18Config,
} from '../../src/nn/state_dict_names.js';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../../src/nn/safetensors.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/torchvision');

interface KeyList {
  source: string;
  config: ResNet18Config & { naming?: string };
  parameter_count: number;
  entries: Array<{ name: string; shape: number[]; dtype: string; kind: string }>;
}
const load = (f: string): KeyList => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as KeyList;
const TORCHVISION = ['resnet18_imagenet_3_1000.json', 'resnet18_cifar_1_4.json', 'resnet18_imagenet_1_10.json'];

describe('ResNet18 state-dict names match torchvision (fixtures from scripts/torch/write_fixture.py)', () => {
  for (const file of TORCHVISION) {
    it(`${file}: same keys in the same order, shapes, dtypes, parameter/buffer split and parameter count`, () => {
      const ref = load(file);
      const ours = resnet18StateDictEntries(ref.config);
      expect(ours.map((e) => e.name)).toEqual(ref.entries.map((e) => e.name));
      expect(ours).toEqual(ref.entries);
      expect(ours).toHaveLength(122);
      expect(resnet18ParameterCount(ref.config)).toBe(ref.parameter_count);
      expect(inferConfigFromShapes(shapesOf(ref.entries))).toEqual(ref.config);
      expect(checkStateDict(ref.config, shapesOf(ref.entries)).ok).toBe(true);
    });
  }

  it('torchvision resnet18 has 11,689,512 parameters; the BackMix setting (cifar, 1 ch, 4 classes) 11,169,732', () => {
    expect(resnet18ParameterCount({ stem: 'imagenet', inChannels: 3, numClasses: 1000 })).toBe(11_689_512);
    expect(resnet18ParameterCount({ stem: 'cifar', inChannels: 1, numClasses: 4 })).toBe(11_169_732);
  });

  it('the key list has the documented structure', () => {
    const s = resnet18StateDictShapes({ stem: 'imagenet', inChannels: 3, numClasses: 7, width: 16 });
    expect(s['conv1.weight']).toEqual([16, 3, 7, 7]);
    expect(s['bn1.num_batches_tracked']).toEqual([]);
    expect(s['layer1.1.conv2.weight']).toEqual([16, 16, 3, 3]);
    expect(s['layer2.0.conv1.weight']).toEqual([32, 16, 3, 3]);
    expect(s['layer2.0.downsample.0.weight']).toEqual([32, 16, 1, 1]);
    expect(s['layer4.0.downsample.1.running_var']).toEqual([128]);
    expect(s['fc.weight']).toEqual([7, 128]);
    expect(s['fc.bias']).toEqual([7]);
    expect(Object.keys(s).filter((k) => k.includes('downsample.0.'))).toEqual([
      'layer2.0.downsample.0.weight', 'layer3.0.downsample.0.weight', 'layer4.0.downsample.0.weight',
    ]);
    expect(Object.keys(s).filter((k) => k.endsWith('num_batches_tracked'))).toHaveLength(20);
    const entries = resnet18StateDictEntries({ stem: 'cifar', inChannels: 1, numClasses: 2 });
    for (const e of entries) {
      expect(e.dtype).toBe(e.name.endsWith('num_batches_tracked') ? 'I64' : 'F32');
      expect(e.kind).toBe(/running_|num_batches/.test(e.name) ? 'buffer' : 'parameter');
    }
  });

  it('rejects invalid configs', () => {
    expect(() => resnet18StateDictEntries({ stem: 'cifar', inChannels: 1, numClasses: 0 })).toThrow(/numClasses/);
    expect(() => resnet18StateDictEntries({ stem: 'cifar', inChannels: 2 as 1, numClasses: 4 })).toThrow(/inChannels must be 1 or 3/);
    expect(() => resnet18StateDictEntries({ stem: 'other' as 'cifar', inChannels: 1, numClasses: 4 })).toThrow(/stem/);
    expect(() => resnet18StateDictEntries({ stem: 'cifar', inChannels: 1, numClasses: 4, width: 2.5 })).toThrow(/width/);
  });
});

describe('inferConfigFromShapes', () => {
  const configs: ResNet18Config[] = [];
  for (const stem of ['cifar', 'imagenet'] as const)
    for (const inChannels of [1, 3] as const)
      for (const width of [1, 8, 13, 32, 64, 96]) configs.push({ stem, inChannels, numClasses: width % 5 + 1, width });

  it(`recovers all ${configs.length} configs (both stems, 1/3 channels, widths 1–96) from shapes alone`, () => {
    for (const c of configs) expect(inferConfigFromShapes(resnet18StateDictShapes(c))).toEqual(c);
  });

  it('fills in the default width 64', () => {
    expect(inferConfigFromShapes(resnet18StateDictShapes({ stem: 'cifar', inChannels: 1, numClasses: 4 }))).toEqual({
      stem: 'cifar', inChannels: 1, numClasses: 4, width: 64,
    });
  });

  it('works on a safetensors header read back from a file', () => {
    const config: ResNet18Config = { stem: 'imagenet', inChannels: 1, numClasses: 3, width: 4 };
    const tensors: Record<string, TensorToWrite> = {};
    for (const e of resnet18StateDictEntries(config)) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      tensors[e.name] = e.dtype === 'I64' ? { dtype: 'I64', shape: e.shape, data: new BigInt64Array(n) } : { dtype: 'F32', shape: e.shape, data: new Float32Array(n) };
    }
    const back = decodeSafetensors(encodeSafetensors(tensors));
    expect(inferConfigFromShapes(shapesOf(back.tensors))).toEqual(config);
    const dtypes = Object.fromEntries(Object.entries(back.tensors).map(([k, t]) => [k, t.sourceDtype]));
    expect(checkStateDict(config, shapesOf(back.tensors), dtypes).ok).toBe(true);
  });

  const base = (): Record<string, number[]> => resnet18StateDictShapes({ stem: 'cifar', inChannels: 1, numClasses: 4, width: 8 });

  it('names the mismatching key and both shapes when one inner tensor is off', () => {
    const s = base();
    s['layer3.1.conv2.weight'] = [32, 16, 3, 3];
    expect(() => inferConfigFromShapes(s, 'ckpt.safetensors')).toThrow(
      'ckpt.safetensors is not a torchvision-named ResNet18: conv1/fc suggest ResNet18 {stem: cifar, inChannels: 1, numClasses: 4, width: 8}, but 1 key(s) disagree\n' +
        '  - shape mismatch for layer3.1.conv2.weight: expected [32,32,3,3], found [32,16,3,3]',
    );
  });

  it('lists missing and unexpected keys (and truncates long lists)', () => {
    const s = base();
    delete s['layer2.0.downsample.1.running_mean'];
    s['extra.weight'] = [3];
    expect(() => inferConfigFromShapes(s)).toThrow(/missing key layer2\.0\.downsample\.1\.running_mean \(expected shape \[16\]\)\n {2}- unexpected key extra\.weight \(shape \[3\]\)/);
    const many = base();
    for (const k of Object.keys(many)) if (k.startsWith('layer4')) delete many[k];
    expect(() => inferConfigFromShapes(many)).toThrow(/30 key\(s\) disagree[\s\S]*… and 18 more$/);
  });

  it('explains conv1 and fc problems', () => {
    const conv5 = { ...base(), 'conv1.weight': [8, 1, 5, 5] };
    expect(() => inferConfigFromShapes(conv5)).toThrow(/conv1\.weight has shape \[8,1,5,5\]: kernel 5×5 is neither 7×7 \(imagenet stem\) nor 3×3 \(cifar stem\)/);
    expect(() => inferConfigFromShapes({ ...base(), 'conv1.weight': [8, 1, 3] })).toThrow(/conv1\.weight has shape \[8,1,3\], expected \[width, inChannels, k, k\]/);
    expect(() => inferConfigFromShapes({ ...base(), 'conv1.weight': [8, 4, 3, 3] })).toThrow(/4 input channels, wgml supports 1 or 3/);
    expect(() => inferConfigFromShapes({ ...base(), 'fc.weight': [4, 512] })).toThrow(
      /fc\.weight has shape \[4,512\], but conv1\.weight \[8,1,3,3\] implies width 8, so fc\.weight must be \[numClasses, 64\]/,
    );
    const noFc = base();
    delete noFc['fc.weight'];
    expect(() => inferConfigFromShapes(noFc)).toThrow(/missing key fc\.weight/);
    expect(() => inferConfigFromShapes({ 'encoder.weight': [3, 3] }, 'x.safetensors')).toThrow(
      /^x\.safetensors is not a torchvision-named ResNet18: missing key conv1\.weight \(found 1 keys, e\.g\. encoder\.weight\)$/,
    );
  });

  it('hints at the BackMix reference names and at DataParallel prefixes', () => {
    const ref = shapesOf(load('resnet18_backmix_reference_1_4.json').entries);
    expect(() => inferConfigFromShapes(ref)).toThrow(/map them with fromBackMixReferenceKey/);
    const dp = Object.fromEntries(Object.entries(base()).map(([k, v]) => [`module.${k}`, v]));
    expect(() => inferConfigFromShapes(dp)).toThrow(/saved from nn\.DataParallel/);
  });
});

describe('checkStateDict', () => {
  const config: ResNet18Config = { stem: 'imagenet', inChannels: 3, numClasses: 10, width: 16 };

  it('reports missing, unexpected, mismatched and wrong-dtype keys with expected and found shapes', () => {
    const s: Record<string, number[]> = resnet18StateDictShapes(config);
    delete s['fc.bias'];
    s['conv1.weight'] = [16, 3, 3, 3];
    s['layer1.0.bn1.extra'] = [16];
    const dtypes = { 'bn1.num_batches_tracked': 'F32', 'bn1.weight': 'F32' };
    const r = checkStateDict(config, s, dtypes);
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual([{ key: 'fc.bias', expected: [10] }]);
    expect(r.unexpected).toEqual([{ key: 'layer1.0.bn1.extra', found: [16] }]);
    expect(r.mismatched).toEqual([{ key: 'conv1.weight', expected: [16, 3, 7, 7], found: [16, 3, 3, 3] }]);
    expect(r.wrongDtype).toEqual([{ key: 'bn1.num_batches_tracked', expected: 'I64', found: 'F32' }]);
    expect(r.messages).toEqual([
      'shape mismatch for conv1.weight: expected [16,3,7,7], found [16,3,3,3]',
      'dtype mismatch for bn1.num_batches_tracked: expected I64, found F32',
      'missing key fc.bias (expected shape [10])',
      'unexpected key layer1.0.bn1.extra (shape [16])',
    ]);
    expect(() => assertStateDict(config, s, 'ckpt.safetensors', dtypes)).toThrow(
      /^ckpt\.safetensors does not match ResNet18 \{stem: imagenet, inChannels: 3, numClasses: 10, width: 16\}: 4 problem\(s\)\n {2}- shape mismatch for conv1\.weight/,
    );
  });

  it('a 0-dim num_batches_tracked stored as [1] is a mismatch (PyTorch would refuse it too)', () => {
    const s = resnet18StateDictShapes(config);
    s['bn1.num_batches_tracked'] = [1];
    expect(checkStateDict(config, s).messages).toEqual(['shape mismatch for bn1.num_batches_tracked: expected [], found [1]']);
  });

  it('passes for an exact match', () => {
    expect(checkStateDict(config, resnet18StateDictShapes(config))).toMatchObject({ ok: true, messages: [] });
    expect(() => assertStateDict(config, resnet18StateDictShapes(config))).not.toThrow();
  });
});

describe('BackMix reference key names', () => {
  it('map one-to-one onto torchvision names (shortcut → downsample, linear → fc) and back', () => {
    const ref = load('resnet18_backmix_reference_1_4.json');
    const tv = load('resnet18_cifar_1_4.json');
    const mapped = ref.entries.map((e) => ({ ...e, name: fromBackMixReferenceKey(e.name) }));
    expect(mapped).toEqual(tv.entries);
    expect(tv.entries.map((e) => toBackMixReferenceKey(e.name))).toEqual(ref.entries.map((e) => e.name));
    expect(inferConfigFromShapes(shapesOf(mapped))).toEqual({ stem: 'cifar', inChannels: 1, numClasses: 4, width: 64 });
  });

  it('leaves other keys alone', () => {
    expect(fromBackMixReferenceKey('layer1.0.bn1.weight')).toBe('layer1.0.bn1.weight');
    expect(fromBackMixReferenceKey('linearity.weight')).toBe('linearity.weight');
    expect(toBackMixReferenceKey('fc2.weight')).toBe('fc2.weight');
  });
});
