// `wgml train`'s option handling (buildTrainConfig) and its summary table: no GPU involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTrainConfig, formatTrainSummary } from '../../src/cli/train.js';
import { PAPER_DEFAULTS, SYNTHETIC_CPU_DEFAULTS } from '../../src/train/config.js';
import type { TrainResult } from '../../src/train/trainer.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'wgml-trainopts-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('buildTrainConfig', () => {
  it('uses the paper defaults with --data and the CPU-sized ones for the built-in synthetic benchmark', () => {
    const paper = buildTrainConfig({ data: 'd.csv', out: 'o' });
    expect(paper).toMatchObject({ ...PAPER_DEFAULTS, data: 'd.csv', out: 'o' });
    const synth = buildTrainConfig({ out: 'o' });
    expect(synth).toMatchObject({ ...SYNTHETIC_CPU_DEFAULTS, data: undefined });
    expect(synth.method).toBe('backmix');
  });

  it('parses numbers and names; wbackmix is BackMix with λ = 1 unless given', () => {
    const c = buildTrainConfig({
      data: 'd', out: 'o', method: 'wBackMix', fraction: '0.05', epochs: '3', batch: '8', lr: '1e-4', seed: '2',
      modelWidth: '4', stem: 'imagenet', imageSize: '48', maskSubset: 'random', cutmixProb: '0.25', synthN: '96',
    });
    expect(c).toMatchObject({
      method: 'backmix', lambda: 1, fraction: 0.05, epochs: 3, batch: 8, lr: 1e-4, seed: 2, width: 4, stem: 'imagenet',
      imageSize: 48, maskSubset: 'random', cutmixProb: 0.25, synthN: 96,
    });
    expect(buildTrainConfig({ data: 'd', method: 'wbackmix', lambda: '0.5' }).lambda).toBe(0.5);
    expect(buildTrainConfig({ data: 'd', method: 'cutmix', seed: '3' }).out).toBe('runs/cutmix-seed3');
  });

  it('a --config file (flat YAML or JSON) fills options; the command line wins', () => {
    const yaml = join(root, 'run.yaml');
    writeFileSync(yaml, '# a run\nepochs: 4\nmodel-width: 3\nstem: "cifar"\nmethod: noise\nfocus: false\n');
    const y = buildTrainConfig({ config: yaml, data: 'd', epochs: '7' });
    // The option's CLI name model-width sets `width`.
    expect(y).toMatchObject({ epochs: 7, width: 3, stem: 'cifar', method: 'noise', focus: false });
    expect(buildTrainConfig({ config: yaml, data: 'd', modelWidth: '5' }).width).toBe(5);
    const json = join(root, 'run.json');
    writeFileSync(json, JSON.stringify({ epochs: 5, width: 6, lr: 0.01 }));
    expect(buildTrainConfig({ config: json, data: 'd' })).toMatchObject({ epochs: 5, width: 6, lr: 0.01 });
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'epochs 4\n');
    expect(() => buildTrainConfig({ config: bad })).toThrow(`${bad}:1: expected 'key: value'`);
    // A misspelt key is an error, not a silently ignored setting.
    const typo = join(root, 'typo.yaml');
    writeFileSync(typo, 'epoch: 4\n');
    expect(() => buildTrainConfig({ config: typo })).toThrow(`${typo}: unknown option 'epoch'`);
    // Values from a file are range-checked like the command line's.
    const range = join(root, 'range.json');
    writeFileSync(range, JSON.stringify({ fraction: 0 }));
    expect(() => buildTrainConfig({ config: range, data: 'd' })).toThrow(/^--fraction:/);
  });

  it.each([
    [{ fraction: '0' }, /^--fraction: expected 0 < f ≤ 1, got 0$/],
    [{ fraction: '1.5' }, /^--fraction:/],
    [{ stem: 'foo' }, /^--stem: expected cifar or imagenet, got 'foo'$/],
    [{ epochs: '1.5' }, /^--epochs: expected a positive integer, got 1.5$/],
    [{ batch: '0' }, /^--batch: expected a positive integer/],
    [{ modelWidth: '-2' }, /^--model-width: expected a positive integer, got -2$/],
    [{ imageSize: 'big' }, /^--image-size: expected a number, got 'big'$/],
    [{ lr: '0' }, /^--lr: expected > 0/],
    [{ lambda: '-1' }, /^--lambda:/],
    [{ seed: '-1' }, /^--seed:/],
    [{ cutmixProb: '2' }, /^--cutmix-prob:/],
    [{ maskSubset: 'every' }, /^--mask-subset: expected stride or random/],
    [{ method: 'mixup' }, /^--method: unknown augmentation method 'mixup'/],
  ])('rejects %o naming the option', (bad, message) => {
    expect(() => buildTrainConfig({ data: 'd', ...bad })).toThrow(message);
  });
});

describe('formatTrainSummary', () => {
  it('prints the run line, the files and one row per split with – for unavailable %E/%F', () => {
    const r = {
      out: '/runs/x', epochsRun: 2, stopped: false, bestEpoch: 2, bestValAcc: 0.625, seconds: 12.34, imagesPerSec: 5.2,
      final: [
        { split: 'test', n: 4, accuracy: 0.5, loss: 1, macroF1: 0.25, percentE: 61.25, percentF: null },
        { split: 'ood-test', n: 4, accuracy: 0.75, loss: 1, macroF1: 0.5, percentE: NaN, percentF: 40 },
      ],
    } as unknown as TrainResult;
    const lines = formatTrainSummary(r).split('\n');
    expect(lines[0]).toBe('trained 2 epoch(s) in 12.3 s (5.2 images/s); best val acc 62.5% at epoch 2');
    expect(lines[1]).toContain('/runs/x/best.safetensors');
    expect(lines[2]).toMatch(/^split\s+n\s+accuracy\s+macro-F1\s+%E\s+%F$/);
    expect(lines[3]!.trim().split(/\s+/)).toEqual(['test', '4', '50.0%', '25.0%', '61.3%', '–']);
    expect(lines[4]!.trim().split(/\s+/)).toEqual(['ood-test', '4', '75.0%', '50.0%', '–', '40.0%']);
  });
});
