// Training configuration: the paper's defaults, and a CPU-sized default for the built-in
// synthetic benchmark (used when no --data is given) that finishes in minutes on 2 cores.
import type { Method } from '../backmix/methods.js';
import type { MaskSubsetMode } from '../backmix/mask_subset.js';
import type { Stem } from '../nn/resnet18.js';

export interface TrainConfig {
  /** Dataset (manifest CSV, TMED-2 CSV, or a directory); absent = the built-in synthetic benchmark. */
  data?: string;
  /** Extra out-of-distribution dataset evaluated at the end (its 'test' split, or every sample). */
  ood?: string;
  method: Method;
  fraction: number;
  lambda: number;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  width: number;
  stem: Stem;
  imageSize: number;
  out: string;
  maskSubset: MaskSubsetMode;
  /** Stride mode: which of the int(1/f) disjoint masked subsets (0 = the reference's). */
  maskOffset: number;
  /**
   * The best checkpoint is the epoch with the highest mean validation accuracy over it and
   * the epochs before it, this many in all (1 = the paper's rule: that epoch's accuracy).
   */
  valWindow: number;
  cutmixProb: number;
  skipBad: boolean;
  /** Samples generated for the built-in synthetic benchmark. */
  synthN: number;
  /** Evaluate GradCAM %E/%F on the test splits at the end. */
  focus: boolean;
}

/** The BackMix paper/reference: ResNet18 CIFAR stem, 1 channel, 112², Adam 1e-3, batch 64, 100 epochs. */
export const PAPER_DEFAULTS: Omit<TrainConfig, 'out'> = {
  method: 'backmix',
  fraction: 1,
  lambda: 0,
  epochs: 100,
  batch: 64,
  lr: 1e-3,
  seed: 0,
  width: 64,
  stem: 'cifar',
  imageSize: 112,
  maskSubset: 'stride',
  maskOffset: 0,
  valWindow: 1,
  cutmixProb: 0.5,
  skipBad: false,
  synthN: 1200,
  focus: true,
};

/**
 * The built-in synthetic run on a CPU software GPU: torchvision's stem (16× cheaper than the
 * CIFAR stem at 112²) and width 8 keep an epoch of ~800 images to seconds-to-a-minute.
 */
export const SYNTHETIC_CPU_DEFAULTS: Partial<TrainConfig> = {
  epochs: 12,
  batch: 32,
  width: 8,
  stem: 'imagenet',
  lr: 3e-3,
};

/** Keys a config file may hold: TrainConfig's fields, in camelCase or as the CLI spells them. */
const CONFIG_KEYS = new Set<string>([...Object.keys(PAPER_DEFAULTS), 'data', 'ood', 'out']);

/**
 * Train options from a file's record: kebab-case keys become camelCase, `model-width` (the
 * CLI's name) becomes `width`; an unknown key is an error naming `source`, not ignored.
 */
export function configFields(source: string, raw: Record<string, unknown>): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const camel = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const key = camel === 'modelWidth' ? 'width' : camel;
    if (!CONFIG_KEYS.has(key)) throw new Error(`${source}: unknown option '${k}'; expected one of ${[...CONFIG_KEYS].join(', ')}`);
    out[key] = v;
  }
  return out as Partial<TrainConfig>;
}

export function validateConfig(c: TrainConfig): void {
  // Keyed by the CLI option each field comes from (width is --model-width).
  const positiveInt = { epochs: c.epochs, batch: c.batch, 'model-width': c.width, 'image-size': c.imageSize, 'synth-n': c.synthN, 'val-window': c.valWindow };
  for (const [k, v] of Object.entries(positiveInt)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`--${k}: expected a positive integer, got ${v}`);
  }
  if (!(c.fraction > 0 && c.fraction <= 1)) throw new RangeError(`--fraction: expected 0 < f ≤ 1, got ${c.fraction}`);
  if (!(c.lambda >= 0)) throw new RangeError(`--lambda: expected λ ≥ 0, got ${c.lambda}`);
  if (!(c.lr > 0)) throw new RangeError(`--lr: expected > 0, got ${c.lr}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new RangeError(`--seed: expected a non-negative integer, got ${c.seed}`);
  if (!Number.isInteger(c.maskOffset) || c.maskOffset < 0) throw new RangeError(`--mask-offset: expected a non-negative integer, got ${c.maskOffset}`);
  if (c.maskOffset > 0 && c.maskSubset !== 'stride') throw new RangeError('--mask-offset: applies to --mask-subset stride only');
  if (c.maskOffset > 0 && c.maskOffset >= Math.trunc(1 / c.fraction)) {
    throw new RangeError(`--mask-offset: expected 0..${Math.trunc(1 / c.fraction) - 1} for f = ${c.fraction}, got ${c.maskOffset}`);
  }
  if (!(c.cutmixProb >= 0 && c.cutmixProb <= 1)) throw new RangeError(`--cutmix-prob: expected 0..1, got ${c.cutmixProb}`);
}
