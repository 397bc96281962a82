// The library surface behind `wgml eval`, `predict` and `gradcam`, end to end on a tiny
// synthetic set: evaluateCheckpoint (ood-test, all, no masks), aggregateEvaluations, predict,
// writeGradCamImages, and the errors a user meets with a wrong checkpoint or dataset.
// Checkpoints are written with saveModel — the function train() uses for its model files —
// from seeded, untrained width-2 networks: what is under test is the path from file to metrics,
// not accuracy (test/train/trainer.test.ts covers checkpoints written by train()).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { gpuRuntime } from '../helpers/gpu.js';
import { CANONICAL_CLASSES, loadDataset, splitIndices, synthesize } from '../../src/data/index.js';
import { ResNet18 } from '../../src/nn/resnet18.js';
import { saveModel } from '../../src/nn/state_dict.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/nn/safetensors.js';
import { evaluateCheckpoint, aggregateEvaluations, predict, type CheckpointEvaluation } from '../../src/train/api.js';
import { writeGradCamImages } from '../../src/train/gradcam_images.js';
import { evaluationMarkdown, aggregateMarkdown } from '../../src/cli/report.js';
import type { EvaluationResult } from '../../src/train/evaluate.js';

const adapter = process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER;
const SIZE = 32;
const N = 48;
const classes = [...CANONICAL_CLASSES];

let root: string;
let data: string;
let ckA: string;
let ckB: string;
/** ckA on split 'all' (set by its test; predict compares against it). */
let allA: CheckpointEvaluation | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wgml-api-'));
  data = join(root, 'synth');
  await synthesize({ out: data, n: N, seed: 21, size: SIZE });
  const rt = await gpuRuntime();
  ckA = join(root, 'a.safetensors');
  ckB = join(root, 'b.safetensors');
  for (const [path, seed] of [[ckA, 1], [ckB, 2]] as const) {
    const m = new ResNet18(rt, { inChannels: 1, numClasses: 4, stem: 'cifar', width: 2 }, seed);
    await saveModel(path, m, { 'wgml.epoch': '1' }, classes);
    m.dispose();
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function expectSaneResult(r: EvaluationResult, n: number, what: string): void {
  expect(r.n, what).toBe(n);
  expect(Number.isFinite(r.loss) && r.loss > 0, `${what}: loss ${r.loss}`).toBe(true);
  const rep = r.report;
  expect(rep.accuracy >= 0 && rep.accuracy <= 1, what).toBe(true);
  expect(rep.confusion.flat().reduce((a, b) => a + b, 0), `${what}: confusion sum`).toBe(n);
  // The confusion matrix is the one of the returned labels and predictions.
  for (let t = 0; t < 4; t++) {
    for (let p = 0; p < 4; p++) {
      let c = 0;
      for (let i = 0; i < n; i++) if (r.labels[i] === t && r.predictions[i] === p) c++;
      expect(rep.confusion[t]![p], `${what}: confusion[${t}][${p}]`).toBe(c);
    }
  }
  expect(rep.accuracy).toBeCloseTo(rep.confusion.reduce((a, row, i) => a + row[i]!, 0) / n, 12);
  for (const c of rep.perClass) for (const v of [c.precision, c.recall, c.f1]) expect(v >= 0 && v <= 1, `${what}: ${c.name}`).toBe(true);
}

function expectFocus(r: EvaluationResult, n: number, what: string): void {
  expect(r.focus, what).not.toBeNull();
  expect(r.focusUnavailable, what).toBeUndefined();
  const f = r.focus!;
  expect(f.images, what).toBe(n);
  expect(f.skipped, what).toBe(0);
  expect(f.imagesE + f.excludedE, what).toBe(n);
  expect(f.imagesF + f.excludedF, what).toBe(n);
  // A 4×4 CAM from an untrained net is rarely constant; at least one image must be scored.
  expect(f.imagesE, `${what}: images scored for %E`).toBeGreaterThan(0);
  for (const v of [f.percentE, f.percentF]) expect(v >= 0 && v <= 100, `${what}: ${v}`).toBe(true);
}

describe('evaluateCheckpoint / aggregateEvaluations', () => {
  let oodA: CheckpointEvaluation;

  it('ood-test split: metrics, confusion matrix summing to N, %E/%F in [0,100]', async () => {
    const ds = await loadDataset(data, { size: SIZE });
    const n = splitIndices(ds, 'ood-test').length;
    oodA = await evaluateCheckpoint({ checkpoint: ckA, data, split: 'ood-test', imageSize: SIZE, batch: 8, adapter });
    expect(oodA.split).toBe('ood-test');
    expect(oodA.classes).toEqual(classes);
    expectSaneResult(oodA.result, n, 'ood-test');
    expectFocus(oodA.result, n, 'ood-test');
    // The CLI's report renders it.
    const md = evaluationMarkdown(oodA);
    expect(md).toContain(`split: ood-test — ${n} images`);
    expect(md).toMatch(/%E \/ %F \(GradCAM focus in the sector\) \| \d+\.\d% \/ \d+\.\d%/);
  });

  it("split 'all' covers every frame, in batches that do not divide N", async () => {
    const all = await evaluateCheckpoint({ checkpoint: ckA, data, split: 'all', imageSize: SIZE, batch: 20, adapter });
    allA = all;
    expectSaneResult(all.result, N, 'all');
    expectFocus(all.result, N, 'all');
    // The ood-test frames are a subset of 'all': their predictions agree (same model, same preprocessing).
    const ds = await loadDataset(data, { size: SIZE });
    const ood = splitIndices(ds, 'ood-test');
    expect(ood.map((i) => all.result.predictions[i])).toEqual(Array.from(oodA.result.predictions));
  });

  it('aggregateEvaluations: mean and sample std over two runs', async () => {
    const oodB = await evaluateCheckpoint({ checkpoint: ckB, data, split: 'ood-test', imageSize: SIZE, batch: 8, adapter });
    const agg = aggregateEvaluations([oodA, oodB]);
    expect(agg.runs).toBe(2);
    // Two values: mean (a+b)/2, sample std |a−b|/√2; in percent, as the paper reports.
    const check = (got: { mean: number; std: number }, a: number, b: number, what: string) => {
      expect(got.mean, what).toBeCloseTo((a + b) / 2, 10);
      expect(got.std, what).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 10);
    };
    const [ra, rb] = [oodA.result, oodB.result];
    check(agg.accuracy, ra.report.accuracy * 100, rb.report.accuracy * 100, 'accuracy');
    check(agg.macroF1, ra.report.macro.f1 * 100, rb.report.macro.f1 * 100, 'macro F1');
    check(agg.weightedF1, ra.report.weighted.f1 * 100, rb.report.weighted.f1 * 100, 'weighted F1');
    expect(agg.percentE).not.toBeNull();
    check(agg.percentE!, ra.focus!.percentE, rb.focus!.percentE, '%E');
    check(agg.percentF!, ra.focus!.percentF, rb.focus!.percentF, '%F');
    expect(aggregateMarkdown(agg, 'ood-test')).toMatch(/# 2 runs, split ood-test/);
    // A run where every CAM was constant has %E = NaN: the aggregate says unavailable, not NaN.
    const constant = { ...oodB, result: { ...oodB.result, focus: { ...oodB.result.focus!, percentE: NaN, imagesE: 0, excludedE: oodB.result.n } } };
    const partial = aggregateEvaluations([oodA, constant]);
    expect(partial.percentE).toBeNull();
    check(partial.percentF!, ra.focus!.percentF, rb.focus!.percentF, '%F');
    expect(aggregateMarkdown(partial, 'ood-test')).not.toContain('NaN');
  });

  it('a dataset without masks: %E/%F reported unavailable, the other metrics still given', async () => {
    // The synthetic manifest without its mask column.
    const text = readFileSync(join(data, 'manifest.csv'), 'utf8').trim().split('\n');
    const header = text[0]!.split(',');
    const keep = ['image', 'label', 'split'].map((c) => header.indexOf(c));
    expect(keep.every((k) => k >= 0)).toBe(true);
    const noMasks = join(data, 'no_masks.csv');
    writeFileSync(noMasks, text.map((l) => keep.map((k) => l.split(',')[k]).join(',')).join('\n') + '\n');
    const e = await evaluateCheckpoint({ checkpoint: ckA, data: noMasks, split: 'ood-test', imageSize: SIZE, batch: 8, adapter });
    expect(e.result.focus).toBeNull();
    expect(e.result.focusUnavailable).toMatch(/no sector masks/);
    expectSaneResult(e.result, oodA.result.n, 'no masks');
    // Same frames, same model: the same predictions as with masks.
    expect(Array.from(e.result.predictions)).toEqual(Array.from(oodA.result.predictions));
    expect(evaluationMarkdown(e)).toContain('| %E / %F | unavailable: no sector masks in this data |');
    expect(aggregateEvaluations([e, oodA]).percentE).toBeNull();
  });
});

describe('predict', () => {
  it("without imageSize the checkpoint's 'wgml.image_size' is used; a malformed one is an error naming the file", async () => {
    const rt = await gpuRuntime();
    const sized = join(root, 'sized.safetensors');
    const broken = join(root, 'broken-size.safetensors');
    const m = new ResNet18(rt, { inChannels: 1, numClasses: 4, stem: 'cifar', width: 2 }, 1); // ckA's weights
    await saveModel(sized, m, { 'wgml.epoch': '1', 'wgml.image_size': String(SIZE) }, classes);
    await saveModel(broken, m, { 'wgml.image_size': 'big' }, classes);
    m.dispose();
    const ds = await loadDataset(data, { size: SIZE });
    const files = splitIndices(ds, 'test').slice(0, 2).map((i) => ds.samples[i]!.file);
    const explicit = await predict({ checkpoint: ckA, images: files, imageSize: SIZE, adapter });
    const fromFile = await predict({ checkpoint: sized, images: files, adapter });
    expect(fromFile.map((p) => p.logits)).toEqual(explicit.map((p) => p.logits));
    // the same weights at the 112 fallback see other pixels
    const fallback = await predict({ checkpoint: ckA, images: files, adapter });
    expect(fallback.map((p) => p.logits)).not.toEqual(explicit.map((p) => p.logits));
    await expect(predict({ checkpoint: broken, images: files, adapter })).rejects.toThrow(`${broken}: metadata 'wgml.image_size' should be a positive integer, got 'big'`);
  });

  it('3 PNGs: a view from the class list, probabilities summing to 1, agreeing with evaluate', async () => {
    const ds = await loadDataset(data, { size: SIZE });
    const test = splitIndices(ds, 'test').slice(0, 3);
    const files = test.map((i) => ds.samples[i]!.file);
    const preds = await predict({ checkpoint: ckA, images: files, imageSize: SIZE, batch: 2, adapter });
    expect(preds.map((p) => p.file)).toEqual(files);
    const all = allA ?? (await evaluateCheckpoint({ checkpoint: ckA, data, split: 'all', imageSize: SIZE, batch: 20, focus: false, adapter }));
    preds.forEach((p, r) => {
      expect(classes).toContain(p.view);
      expect(Object.keys(p.probabilities)).toEqual(classes);
      const probs = Object.values(p.probabilities);
      for (const v of probs) expect(v >= 0 && v <= 1).toBe(true);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(p.logits).toHaveLength(4);
      // The reported view is the most probable class, i.e. the argmax of the logits.
      expect(p.view).toBe(classes[p.logits.indexOf(Math.max(...p.logits))]);
      // predict decodes the file itself; evaluate reads the dataset: both preprocess alike.
      expect(p.view, p.file).toBe(classes[all.result.predictions[test[r]!]!]);
    });
  });
});

describe('writeGradCamImages', () => {
  it('writes n overlays of the input size and a contact sheet of ceil(√n) columns', async () => {
    const out = join(root, 'gradcam');
    const n = 5;
    const r = await writeGradCamImages({ checkpoint: ckA, data, out, n, split: 'all', imageSize: SIZE, batch: 3, adapter });
    expect(r.images).toHaveLength(n);
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png') && f !== 'contact_sheet.png');
    expect(pngs).toHaveLength(n);
    for (const img of r.images) {
      const meta = await sharp(img.png).metadata();
      expect([meta.format, meta.width, meta.height, meta.channels], img.png).toEqual(['png', SIZE, SIZE, 3]);
      expect(classes).toContain(img.label);
      expect(classes).toContain(img.predicted);
    }
    // The overlay is not just the frame: the heatmap colours it (jet has no grey except at the ends).
    const { data: px } = await sharp(r.images[0]!.png).raw().toBuffer({ resolveWithObject: true });
    let coloured = 0;
    for (let p = 0; p < SIZE * SIZE; p++) if (px[3 * p] !== px[3 * p + 1] || px[3 * p + 1] !== px[3 * p + 2]) coloured++;
    expect(coloured).toBeGreaterThan((SIZE * SIZE) / 2);
    const sheet = await sharp(r.sheet).metadata();
    const cols = Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / cols);
    expect([sheet.width, sheet.height]).toEqual([cols * (SIZE + 2), rows * (SIZE + 2)]);
  });
});

describe('bad input', () => {
  it('a missing checkpoint is named in the error (eval, predict, gradcam)', async () => {
    const missing = join(root, 'nope', 'missing.safetensors');
    await expect(evaluateCheckpoint({ checkpoint: missing, data, imageSize: SIZE, adapter })).rejects.toThrow(missing);
    await expect(predict({ checkpoint: missing, images: [join(data, 'manifest.csv')], adapter })).rejects.toThrow(missing);
    await expect(writeGradCamImages({ checkpoint: missing, data, out: join(root, 'x'), adapter })).rejects.toThrow(missing);
  });

  it('a tensor of the wrong shape: the error names the file, the key and both shapes', async () => {
    const st = await readSafetensors(ckA);
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of Object.entries(st.tensors)) {
      if (name === 'layer3.1.bn2.weight') {
        expect(t.shape).toEqual([8]);
        tensors[name] = { dtype: 'F32', shape: [7], data: (t.data as Float32Array).slice(0, 7) };
      } else {
        tensors[name] = t as TensorToWrite;
      }
    }
    const bad = join(root, 'bad_shape.safetensors');
    await writeSafetensors(bad, tensors, st.metadata);
    const err = await evaluateCheckpoint({ checkpoint: bad, data, imageSize: SIZE, adapter }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(bad);
    expect(msg).toContain('layer3.1.bn2.weight');
    expect(msg).toMatch(/expected \[8\], found \[7\]/);
  });

  it('a 3-class checkpoint on 4-class data: the error says outputs vs classes', async () => {
    const rt = await gpuRuntime();
    const m = new ResNet18(rt, { inChannels: 1, numClasses: 3, stem: 'cifar', width: 2 }, 3);
    const three = join(root, 'three.safetensors');
    await saveModel(three, m); // no class names in the file
    m.dispose();
    await expect(evaluateCheckpoint({ checkpoint: three, data, imageSize: SIZE, adapter })).rejects.toThrow(/3 outputs and no class names; pass --classes/);
    await expect(evaluateCheckpoint({ checkpoint: three, data, imageSize: SIZE, classes, adapter })).rejects.toThrow(
      /has 3 outputs but 4 class names were given/,
    );
  });
});
