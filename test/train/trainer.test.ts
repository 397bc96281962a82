// End-to-end proof of `train()` (what `wgml train` runs) on a tiny synthetic benchmark:
// the run directory's files and their contents, and bit-exact resume.
// Tiny on purpose (48 frames at 32², width 2, batch 8): every train() opens its own device and
// compiles its pipelines, which dominates the cost on SwiftShader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, splitIndices, synthesize } from '../../src/data/index.js';
import { train, TrainingDivergedError, type EpochMetrics, type TrainResult } from '../../src/train/trainer.js';
import { InitRng } from '../../src/nn/init.js';
import { PAPER_DEFAULTS, type TrainConfig } from '../../src/train/config.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/nn/safetensors.js';

const adapter = process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER;

let root: string;
let data: string;

function tinyConfig(out: string, over: Partial<TrainConfig> = {}): TrainConfig {
  // The CIFAR stem keeps a 4×4 last-stage map at 32², so GradCAM %E/%F are defined.
  return { ...PAPER_DEFAULTS, data, out, epochs: 2, batch: 8, width: 2, imageSize: 32, stem: 'cifar', lr: 3e-3, seed: 5, ...over };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wgml-trainer-'));
  data = join(root, 'synth');
  await synthesize({ out: data, n: 48, seed: 11, size: 32 });
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const METRIC_FIELDS: (keyof EpochMetrics)[] = [
  'epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'images_per_sec', 'seconds', 'gpu_bytes_in_use', 'gpu_peak_bytes_in_use', 'gpu_bytes_allocated', 'gpu_peak_bytes_allocated', 'first_step_seconds', 'best',
];

describe('train(): tiny synthetic run', () => {
  let straight: TrainResult;
  let straightOut: string;

  beforeAll(async () => {
    straightOut = join(root, 'straight');
    const epochs: number[] = [];
    straight = await train(tinyConfig(straightOut), { onEpochEnd: (m) => epochs.push(m.epoch) }, { adapter });
    expect(epochs).toEqual([1, 2]);
  });

  it('writes best/last model and state checkpoints, config.json and 2 lines of metrics.jsonl', () => {
    for (const name of ['best', 'last']) {
      expect(existsSync(join(straightOut, `${name}.safetensors`)), name).toBe(true);
      expect(existsSync(join(straightOut, `${name}.state.safetensors`)), name).toBe(true);
    }
    const cfg = JSON.parse(readFileSync(join(straightOut, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.classes).toEqual(['PLAX', 'PSAX-AV', 'A2C', 'A4C']);
    expect(cfg.epochs).toBe(2);

    const lines = readFileSync(join(straightOut, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const rows = lines.map((l) => JSON.parse(l) as EpochMetrics);
    rows.forEach((m, i) => {
      expect(Object.keys(m).sort()).toEqual([...METRIC_FIELDS].sort());
      expect(m.epoch).toBe(i + 1);
      expect(Number.isFinite(m.train_loss) && m.train_loss > 0).toBe(true);
      // The synthetic set has a val split, so validation numbers are present.
      expect(Number.isFinite(m.val_loss!) && m.val_loss! > 0).toBe(true);
      for (const a of [m.train_acc, m.val_acc!]) expect(a >= 0 && a <= 1).toBe(true);
      expect(m.images_per_sec).toBeGreaterThan(0);
      expect(m.seconds).toBeGreaterThan(0);
      // Trimming keeps every buffer the epoch used, so the pool still covers the epoch's peak.
      // The pool owns at least what is held, at every moment; after the epoch it may own less
      // than the peak held (a step plan replaces the first steps' buffers).
      expect(m.gpu_peak_bytes_allocated).toBeGreaterThanOrEqual(m.gpu_peak_bytes_in_use);
      expect(m.gpu_peak_bytes_allocated).toBeGreaterThanOrEqual(m.gpu_bytes_allocated);
      expect(m.gpu_bytes_allocated).toBeGreaterThanOrEqual(m.gpu_bytes_in_use);
      expect(m.gpu_peak_bytes_in_use).toBeGreaterThanOrEqual(m.gpu_bytes_in_use);
      expect(typeof m.best).toBe('boolean');
      // Only a run's first epoch carries the time to its first step.
      if (i === 0) expect(m.first_step_seconds).toBeGreaterThan(0);
      else expect(m.first_step_seconds).toBeNull();
    });
    // Epoch 1 is always the best so far; the best epoch reported is the last one flagged best.
    expect(rows[0]!.best).toBe(true);
    const lastBest = Math.max(...rows.filter((m) => m.best).map((m) => m.epoch));
    expect(straight.bestEpoch).toBe(lastBest);
    expect(straight.bestValAcc).toBe(rows[lastBest - 1]!.val_acc);
    expect(straight.epochsRun).toBe(2);
    expect(straight.stopped).toBe(false);
  });

  it('results.json: test and ood-test splits with accuracy in [0,1], confusion summing to N, %E/%F in [0,100]', async () => {
    const res = JSON.parse(readFileSync(join(straightOut, 'results.json'), 'utf8')) as {
      bestEpoch: number;
      splits: {
        split: string; n: number; accuracy: number; macroF1: number; percentE: number | null; percentF: number | null;
        report: { confusion: number[][]; accuracy: number; total: number };
        focus: { percentE: number | null; percentF: number | null; imagesE: number; excludedE: number; images: number } | null;
        focusUnavailable?: string;
      }[];
    };
    expect(res.bestEpoch).toBe(straight.bestEpoch);
    expect(res.splits.map((s) => s.split)).toEqual(['test', 'ood-test']);
    // The library result carries the same numbers.
    const row = (s: { split: string; n: number; accuracy: number; macroF1: number; percentE: number | null; percentF: number | null }) =>
      [s.split, s.n, s.accuracy, s.macroF1, s.percentE, s.percentF];
    expect(straight.final.map(row)).toEqual(res.splits.map(row));
    for (const s of res.splits) {
      expect(s.n).toBeGreaterThan(0);
      expect(s.accuracy >= 0 && s.accuracy <= 1, s.split).toBe(true);
      expect(s.macroF1 >= 0 && s.macroF1 <= 1, s.split).toBe(true);
      const m = s.report.confusion;
      expect(m).toHaveLength(4);
      expect(m.flat().reduce((a, b) => a + b, 0), s.split).toBe(s.n);
      expect(s.report.total).toBe(s.n);
      const diag = m.reduce((a, row, i) => a + row[i]!, 0);
      expect(s.accuracy).toBeCloseTo(diag / s.n, 12);
      // Every synthetic frame has a mask: focus metrics are computed; a constant CAM is excluded
      // and reported (null when every image of the split was excluded).
      expect(s.focus, s.split).not.toBeNull();
      expect(s.focus!.images).toBe(s.n);
      for (const v of [s.percentE, s.percentF]) {
        if (v === null) expect(s.focus!.imagesE, s.split).toBe(0);
        else expect(v >= 0 && v <= 100, `${s.split} ${v}`).toBe(true);
      }
      expect(s.focus!.imagesE + s.focus!.excludedE).toBe(s.n);
    }
  });

  it('resume: 1 epoch, then resume to 2, gives last.safetensors bit-identical to the straight run', async () => {
    const out = join(root, 'resumed');
    // focus: false only skips GradCAM in the final evaluation (fewer pipelines to compile).
    const r1 = await train(tinyConfig(out, { epochs: 1, focus: false }), {}, { adapter });
    expect(r1.epochsRun).toBe(1);
    // A copy of the 1-epoch run for the divergence tests below.
    cpSync(out, join(root, 'one-epoch'), { recursive: true });
    // As if the run had been killed after epoch 2's metrics line but before epoch 2's checkpoint.
    appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ epoch: 2, train_loss: -1 }) + '\n');
    const logs: string[] = [];
    const r2 = await train(tinyConfig(out, { epochs: 2, focus: false }), { onLog: (m) => logs.push(m) }, { adapter, resume: true });
    expect(r2.epochsRun).toBe(1);
    expect(logs.some((l) => l.includes('after epoch 1'))).toBe(true);
    // metrics.jsonl keeps epoch 1's line and has one line for the redone epoch 2, the new one.
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochMetrics);
    expect(lines.map((m) => m.epoch)).toEqual([1, 2]);
    expect(lines[1]!.train_loss).toBeGreaterThan(0);

    for (const file of ['last.safetensors', 'last.state.safetensors']) {
      const a = await readSafetensors(join(straightOut, file));
      const b = await readSafetensors(join(out, file));
      expect(Object.keys(b.tensors).sort(), file).toEqual(Object.keys(a.tensors).sort());
      const differing: string[] = [];
      for (const [name, ta] of Object.entries(a.tensors)) {
        const tb = b.tensors[name]!;
        expect(tb.shape, name).toEqual(ta.shape);
        if (ta.data instanceof Float32Array) {
          // Exact: compare bit patterns (NaN-safe, -0 ≠ +0).
          const ua = new Uint32Array(ta.data.buffer, ta.data.byteOffset, ta.data.length);
          const ub = new Uint32Array((tb.data as Float32Array).buffer, tb.data.byteOffset, tb.data.length);
          if (!ua.every((v, i) => v === ub[i])) differing.push(name);
        } else if (String(ta.data) !== String(tb.data)) {
          differing.push(name);
        }
      }
      expect(differing, `${file}: tensors that differ after resume`).toEqual([]);
    }
    // The training state (epoch, Adam step, RNG streams) agrees too.
    const sa = JSON.parse((await readSafetensors(join(straightOut, 'last.state.safetensors'))).metadata!['wgml.training_state']!);
    const sb = JSON.parse((await readSafetensors(join(out, 'last.state.safetensors'))).metadata!['wgml.training_state']!);
    expect(sb.epoch).toBe(2);
    expect(sb.adamStep).toBe(sa.adamStep);
    // the model file says what size it was trained at, for eval/predict/gradcam
    expect((await readSafetensors(join(out, 'last.safetensors'))).metadata!['wgml.image_size']).toBe('32');
    expect(sb.rng).toEqual(sa.rng);
  });

  // Both divergence tests resume a copy of the 1-epoch run with an absurd learning rate: Adam's
  // first step moves every weight by ~lr (|m̂/√v̂| = 1 for any nonzero gradient), so what
  // happens next is deterministic.
  async function divergeFrom(
    name: string, lr: number, prepare?: (out: string) => Promise<void>,
  ): Promise<{ msg: string; out: string; unchanged: () => void }> {
    const out = join(root, name);
    cpSync(join(root, 'one-epoch'), out, { recursive: true });
    await prepare?.(out);
    const files = ['last.safetensors', 'last.state.safetensors', 'best.safetensors', 'best.state.safetensors', 'metrics.jsonl'];
    const before = files.map((f) => readFileSync(join(out, f)));
    const err = await train(tinyConfig(out, { epochs: 2, lr, focus: false }), {}, { adapter, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const msg = (err as Error).message;
    expect(msg).toContain(`The last good checkpoint (epoch 1) is intact in ${out}`);
    return { msg, out, unchanged: () => files.forEach((f, i) => expect(readFileSync(join(out, f)).equals(before[i]!), f).toBe(true)) };
  }

  it('valWindow 2: the best checkpoint is the epoch with the highest mean val accuracy over it and the epoch before', async () => {
    const out = join(root, 'window');
    const r = await train(tinyConfig(out, { epochs: 3, valWindow: 2, focus: false }), {}, { adapter });
    const acc = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as EpochMetrics).val_acc!);
    const scores = acc.map((_, e) => {
      const w = acc.slice(Math.max(0, e - 1), e + 1);
      return w.reduce((a, b) => a + b, 0) / w.length;
    });
    const bestEpoch = scores.lastIndexOf(Math.max(...scores)) + 1;
    expect(r.bestEpoch).toBe(bestEpoch);
    expect(r.bestValAcc).toBe(scores[bestEpoch - 1]);
  });

  it('divergence (loss): a NaN loss stops the run naming the step and its samples; the checkpoints stay intact', async () => {
    // lr = 1e38: step 2's logits overflow f32 and the loss is NaN.
    const { msg, out, unchanged } = await divergeFrom('diverge-loss', 1e38);
    const m = /^loss became (NaN|-?Infinity) at epoch 2, step (\d+)\/4; batch samples: ([^.]+)\./.exec(msg);
    expect(m, msg).not.toBeNull();
    const step = Number(m![2]);
    expect(step).toBeGreaterThanOrEqual(2); // step 1 runs on the good epoch-1 weights
    // The ids named are exactly that step's batch: replay epoch 2's shuffle from the saved state.
    const ds = await loadDataset(data, { size: 32 });
    const state = JSON.parse((await readSafetensors(join(out, 'last.state.safetensors'))).metadata!['wgml.training_state']!);
    const shuffle = new InitRng(0);
    shuffle.setState(state.rng.shuffle);
    const order = shuffle.shuffled(splitIndices(ds, 'train'));
    const ids = order.slice((step - 1) * 8, step * 8).map((i) => ds.samples[i]!.id);
    expect(m![3]!.split(', ')).toEqual(ids);
    unchanged();
  });

  it('divergence (weights): a non-finite tensor behind a finite loss stops the run before any checkpoint is written', async () => {
    // Training normalises with batch statistics, so an infinite BatchNorm running variance
    // never reaches the training loss (0.9·∞ + 0.1·v stays ∞); only the epoch-end check of
    // every parameter and buffer sees it. (Since ReLU and BN propagate NaN, diverging weights
    // show up in the loss first — the test above.)
    const { msg, unchanged } = await divergeFrom('diverge-weights', 3e-3, async (out) => {
      const file = join(out, 'last.safetensors');
      const st = await readSafetensors(file);
      const rv = st.tensors['bn1.running_var']!;
      (rv.data as Float32Array)[0] = Infinity;
      await writeSafetensors(file, st.tensors as Record<string, TensorToWrite>, st.metadata);
    });
    expect(msg).toMatch(/^bn1\.running_var became non-finite during epoch 2 \(the loss stayed finite: [\d.e+-]+\)\./);
    unchanged();
  });
});
