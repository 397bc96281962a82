// `wgml augment`: renders what training sees. For n samples of the training split it writes a
// PNG grid with one row per sample and three columns: the source frame, the augmented sector
// mask (white = sector), and the network input before its z-score (augmentation + background
// method, clipped to [0,255]), plus a JSON file listing each row's parameters.
//
//   wgml augment --data DIR --method backmix --out DIR -n 16 [--seed 0] [--fraction 1] [--adapter lavapipe]
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { Runtime } from '../kernels/runtime.js';
import { loadDataset, splitNames, splitIndices, type Dataset } from '../data/index.js';
import { createAugmenter } from '../backmix/augment.js';
import { parseMethod, METHODS, type Method } from '../backmix/methods.js';
import type { MaskSubsetMode } from '../backmix/mask_subset.js';
import { AugRng } from '../backmix/rng.js';
import { globalOptions } from './options.js';

export interface AugmentGridOptions {
  method: Method;
  count: number;
  seed: number;
  fraction: number;
  maskSubset: MaskSubsetMode;
  /** Training split used as the pool (subset and donors); default 'train' when present, else all. */
  split?: string;
  blurSigma?: number;
  cutmixProb?: number;
  /** Pixels between cells. */
  gap?: number;
}

export interface AugmentGrid {
  /** Grey u8 image, rows × 3 cells. */
  pixels: Uint8Array;
  width: number;
  height: number;
  rows: AugmentGridRow[];
}

export interface AugmentGridRow {
  index: number;
  id: string;
  label: string;
  angle: number;
  flip: boolean;
  alpha: number;
  beta: number;
  inSubset: boolean;
  donor?: string;
  weight: number;
}

/** Training pool of a dataset: the named split, else 'train' if present, else every sample. */
export function trainingPool(ds: Dataset, split?: string): number[] {
  if (split) return splitIndices(ds, split);
  return splitNames(ds).includes('train') ? splitIndices(ds, 'train') : ds.samples.map((_, i) => i);
}

/** Augments `count` samples of the pool (drawn with the seed) and lays them out as a grid. */
export async function renderAugmentGrid(rt: Runtime, ds: Dataset, o: AugmentGridOptions): Promise<AugmentGrid> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError(`-n must be a positive integer, got ${o.count}`);
  const pool = trainingPool(ds, o.split);
  const aug = createAugmenter(rt, ds, {
    method: o.method,
    fraction: o.fraction,
    seed: o.seed,
    maskSubset: o.maskSubset,
    pool,
    zscore: false,
    ...(o.blurSigma !== undefined ? { blurSigma: o.blurSigma } : {}),
    ...(o.cutmixProb !== undefined ? { cutmixProb: o.cutmixProb } : {}),
  });
  try {
    // Which samples to show: a seeded draw without replacement from the pool (all of it if small).
    const pick = [...pool];
    const r = AugRng.forStream(o.seed, 'augment-grid');
    const n = Math.min(o.count, pick.length);
    for (let j = 0; j < n; j++) {
      const k = j + r.int(pick.length - j);
      [pick[j], pick[k]] = [pick[k]!, pick[j]!];
    }
    const indices = pick.slice(0, n);
    const out = aug.augmentBatch(indices, { mask: true });
    const S = ds.size;
    const px = S * S;
    const x = await rt.readF32(out.x, n * px);
    const m = await rt.readF32(out.mask!, n * px);
    rt.release(out.x);
    rt.release(out.mask!);

    const gap = o.gap ?? 2;
    const width = 3 * S + 4 * gap;
    const height = n * S + (n + 1) * gap;
    const pixels = new Uint8Array(width * height).fill(128);
    const put = (row: number, col: number, value: (q: number) => number) => {
      const ox = gap + col * (S + gap);
      const oy = gap + row * (S + gap);
      for (let y = 0; y < S; y++) for (let xx = 0; xx < S; xx++) pixels[(oy + y) * width + ox + xx] = value(y * S + xx);
    };
    indices.forEach((i, b) => {
      put(b, 0, (q) => ds.frames[i * px + q]!);
      put(b, 1, (q) => (m[b * px + q]! > 0.5 ? 255 : 0));
      put(b, 2, (q) => Math.round(x[b * px + q]! * 255));
    });
    const rows = out.params.samples.map((s, b): AugmentGridRow => {
      const row: AugmentGridRow = {
        index: s.index,
        id: ds.samples[s.index]!.id,
        label: ds.classes[ds.samples[s.index]!.label] ?? String(ds.samples[s.index]!.label),
        angle: s.angle,
        flip: s.flip,
        alpha: s.alpha,
        beta: s.beta,
        inSubset: out.inSubset[b] === 1,
        weight: out.weights[b]!,
      };
      if (s.donor >= 0) row.donor = ds.samples[s.donor]!.id;
      return row;
    });
    return { pixels, width, height, rows };
  } finally {
    aug.dispose();
  }
}

interface CliOptions {
  data: string;
  out: string;
  method: string;
  n: string;
  seed: string;
  fraction: string;
  maskSubset: string;
  split?: string;
  size: string;
  blurSigma?: string;
  cutmixProb?: string;
}

function num(name: string, v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new RangeError(`${name} must be a number, got '${v}'`);
  return x;
}

export function registerAugment(program: Command): void {
  program
    .command('augment')
    .description('write a PNG grid (source | augmented mask | result) of what training sees')
    .requiredOption('--data <path>', 'dataset: manifest or TMED-2 CSV, or a folder holding one (or the BackMix .npy layout)')
    .requiredOption('--out <dir>', 'output folder for augment.png and augment.json')
    .option('--method <name>', `background method: ${METHODS.join(' | ')}`, 'backmix')
    .option('-n, --n <count>', 'samples to show', '16')
    .option('--seed <int>', 'random seed', '0')
    .option('--fraction <f>', 'supervised fraction f: masks used by every int(1/f)-th sample', '1')
    .option('--mask-subset <mode>', 'stride (reference) | random', 'stride')
    .option('--split <name>', "training split (default: 'train' when present, else all samples)")
    .option('--size <px>', 'frames are resized to size × size on load (the model input)', '112')
    .option('--blur-sigma <px>', 'bokeh-blur Gaussian sigma')
    .option('--cutmix-prob <p>', 'CutMix probability per batch')
    .action(async (opts: CliOptions, cmd: Command) => {
      const method = parseMethod(opts.method);
      const maskSubset = opts.maskSubset as MaskSubsetMode;
      if (maskSubset !== 'stride' && maskSubset !== 'random') throw new RangeError(`--mask-subset must be stride or random, got '${opts.maskSubset}'`);
      const ds = await loadDataset(opts.data, { size: num('--size', opts.size) });
      const rt = await Runtime.create({ adapter: globalOptions(cmd).adapter });
      try {
        const grid = await renderAugmentGrid(rt, ds, {
          method,
          count: num('-n', opts.n),
          seed: num('--seed', opts.seed),
          fraction: num('--fraction', opts.fraction),
          maskSubset,
          ...(opts.split ? { split: opts.split } : {}),
          ...(opts.blurSigma ? { blurSigma: num('--blur-sigma', opts.blurSigma) } : {}),
          ...(opts.cutmixProb ? { cutmixProb: num('--cutmix-prob', opts.cutmixProb) } : {}),
        });
        const dir = resolve(opts.out);
        await mkdir(dir, { recursive: true });
        const png = join(dir, 'augment.png');
        await sharp(Buffer.from(grid.pixels), { raw: { width: grid.width, height: grid.height, channels: 1 } }).toColourspace('b-w').png().toFile(png);
        await writeFile(join(dir, 'augment.json'), JSON.stringify({ method, seed: num('--seed', opts.seed), fraction: num('--fraction', opts.fraction), columns: ['source', 'mask', 'result'], rows: grid.rows }, null, 2));
        console.log(`${png}: ${grid.rows.length} samples × (source | mask | result), method ${method}, adapter ${rt.gpu.info.name}`);
      } finally {
        rt.destroy();
      }
    });
}
