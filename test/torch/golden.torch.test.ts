// The golden fixtures `npm test` compares wgml against are what PyTorch produces: regenerate them
// with scripts/torch/golden_fixtures.py into a temporary folder and compare with the committed
// files. Checkpoints, batches and safetensors files must be identical bytes (seeded RNG and
// serialization); torch's float64 results must agree to F64_TOL of each tensor's scale (another
// torch build or CPU may round the last bits differently); only the torch version and module
// implementation named in the metadata may differ. After changing the generator or the model,
// regenerate: /usr/bin/python3 scripts/torch/golden_fixtures.py
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensorsSync } from '../../src/nn/safetensors.js';
import { expectScaledClose } from '../nn/nn_test_utils.js';
import { F64_TOL, ROOT, readF64Tensors } from '../nn/resnet_parity.js';
import { runTorchScript } from './torch_utils.js';

const FIXTURES = path.join(ROOT, 'test/fixtures');
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-golden-'));
  runTorchScript('golden_fixtures.py', [tmp]);
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const committed = (rel: string) => path.join(FIXTURES, rel);
const fresh = (rel: string) => path.join(tmp, rel);
const stale = (rel: string) => `${rel} differs from what scripts/torch/golden_fixtures.py writes now (regenerate it and say why in the commit)`;

describe('golden PyTorch fixtures are what scripts/torch/golden_fixtures.py writes', () => {
  it('writes exactly the committed set of files', () => {
    const list = (dir: string) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
    const written = list(tmp);
    expect(written.filter((f) => !fs.existsSync(committed(f)))).toEqual([]);
    expect(written.filter((f) => f.startsWith('parity/'))).toEqual(list(committed('parity')).map((f) => `parity/${f}`));
  });

  for (const rel of [
    'parity/resnet18_cifar_w4.safetensors',
    'parity/resnet18_imagenet_w4.safetensors',
    'safetensors/torch_interop_mixed.safetensors',
    'safetensors/torch_interop_mixed.expected.json',
  ]) {
    it(`${rel}: same bytes`, () => {
      expect(fs.readFileSync(fresh(rel)).equals(fs.readFileSync(committed(rel))), stale(rel)).toBe(true);
    });
  }

  for (const rel of ['safetensors/torch_resnet18_cifar_1_4.header.json', 'safetensors/torch_resnet18_imagenet_3_1000.header.json']) {
    it(`${rel}: same header and size (the source line names the torch version)`, () => {
      const read = (f: string) => {
        const { source: _, ...rest } = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
        return rest;
      };
      expect(read(fresh(rel)), stale(rel)).toEqual(read(committed(rel)));
    });
  }

  for (const stem of ['cifar', 'imagenet']) {
    const rel = `parity/resnet18_${stem}_w4.expected.safetensors`;
    it(`${rel}: same batch and metadata; torch's float64 results agree to ${F64_TOL} of scale`, () => {
      const a = readSafetensorsSync(fresh(rel));
      const b = readSafetensorsSync(committed(rel));
      const { torch: _t, impl: _i, ...metaA } = a.metadata!;
      const { torch: _t2, impl: _i2, ...metaB } = b.metadata!;
      expect(metaA, stale(rel)).toEqual(metaB);
      expect(a.names, stale(rel)).toEqual(b.names);
      for (const k of ['x', 'labels', 'weights']) expect(a.tensors[k], `${stale(rel)}: ${k}`).toEqual(b.tensors[k]);
      const fa = readF64Tensors(fresh(rel));
      const fb = readF64Tensors(committed(rel));
      expect(Object.keys(fa).length).toBe(Object.keys(a.tensors).length - 3);
      for (const [k, v] of Object.entries(fb)) expectScaledClose(fa[k]!, v, F64_TOL, `${rel}: ${k}`);
    });
  }
});
