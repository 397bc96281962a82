// The synthetic echo benchmark with a background shortcut (docs/DESIGN.md, "The synthetic
// benchmark"). Writes
//   OUT/frames/{split}/{id}.png  grey frames
//   OUT/masks/{split}/{id}.png   sector masks, 0/255
//   OUT/manifest.csv             image,label,split,mask,site (what loadDataset reads)
//   OUT/synth_samples.csv        per-sample cue element, cue class, hard flag, geometry
//   OUT/synth.json               parameters, sites, counts, cue agreement per split
// Everything is a pure function of the options (no clock, no Math.random), so the same seed
// gives the same bytes.

import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CANONICAL_CLASSES } from '../dataset.js';
import { DatasetError } from '../errors.js';
import { defaultConcurrency, mapLimit } from '../map_limit.js';
import { renderSample } from './frame.js';
import { DEFAULT_SPLIT_FRACTIONS, FRAMES_PER_PATIENT, planSamples, SYNTH_SPLITS, type SplitFractions } from './plan.js';
import { CUE_MARKERS, CUE_TYPEFACES, SITES } from './sites.js';
import { manifestText, samplesText, writeGrayPng, writeText, type SynthSampleMeta } from './writer.js';

export interface SynthOptions {
  /** Output folder; created if missing. An existing non-empty folder must hold a previous synth.json. */
  out: string;
  /** Number of frames. Default 1200 (≈ train 804, val 132, test 132, ood-test 132). */
  n?: number;
  seed?: number;
  /** Frame size (H = W). Default 112. */
  size?: number;
  /**
   * Probability that the i.d. background cue names the true view (else one of the other
   * views, uniformly). 0.25 with four classes makes the cue independent of the view. Default 1.
   */
  shortcutStrength?: number;
  /** Fraction of frames degraded by a big shadow or dropout over the heart. Default 0.25. */
  hardFraction?: number;
  /** Relative split sizes (by patient). Default { train: 0.67, val: 0.11, test: 0.11, 'ood-test': 0.11 }. */
  splits?: Partial<SplitFractions>;
  /** PNG files written at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  out: string;
  manifest: string;
  classes: string[];
  /** counts[split][class] */
  counts: Record<string, Record<string, number>>;
  samples: SynthSampleMeta[];
}

/**
 * Bumped whenever the same options would draw different pixels, so a cached benchmark from an
 * older generator is regenerated instead of reused (see isCurrentSynthOutput).
 * 2: body markers, default shortcut strength 1, hard fraction 0.25.
 */
export const SYNTH_VERSION = 2;

export const SYNTH_DEFAULTS = { n: 1200, seed: 1, size: 112, shortcutStrength: 1, hardFraction: 0.25 } as const;

async function prepareOut(out: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return; // does not exist yet
  }
  if (names.length === 0) return;
  if (!names.includes('synth.json')) {
    throw new DatasetError(`refusing to write into ${out}`, [
      { file: out, row: null, reason: 'folder is not empty and holds no synth.json; expected a new or empty folder, or an earlier synth output' },
    ]);
  }
  // a previous synth run: drop its images so a smaller n leaves no strays behind
  for (const d of ['frames', 'masks']) await rm(join(out, d), { recursive: true, force: true });
}

function checkRange(name: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v <= hi)) throw new RangeError(`${name} must be in [${lo}, ${hi}], got ${v}`);
}

export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const n = opts.n ?? SYNTH_DEFAULTS.n;
  const seed = opts.seed ?? SYNTH_DEFAULTS.seed;
  const size = opts.size ?? SYNTH_DEFAULTS.size;
  const shortcutStrength = opts.shortcutStrength ?? SYNTH_DEFAULTS.shortcutStrength;
  const hardFraction = opts.hardFraction ?? SYNTH_DEFAULTS.hardFraction;
  const fractions: SplitFractions = { ...DEFAULT_SPLIT_FRACTIONS, ...opts.splits };
  if (!Number.isInteger(size) || size < 32) throw new RangeError(`size must be an integer ≥ 32, got ${size}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  checkRange('shortcutStrength', shortcutStrength, 0, 1);
  checkRange('hardFraction', hardFraction, 0, 1);

  const out = resolve(opts.out);
  await prepareOut(out);
  const classes = [...CANONICAL_CLASSES];
  const plan = planSamples({ n, seed, shortcutStrength, hardFraction, fractions, classes });

  const samples = await mapLimit(
    plan,
    opts.concurrency ?? defaultConcurrency(),
    async (spec): Promise<SynthSampleMeta> => {
      const r = renderSample(spec, seed, size);
      const image = `frames/${spec.id}.png`;
      const mask = `masks/${spec.id}.png`;
      const mask255 = r.mask.map((v) => v * 255);
      await Promise.all([writeGrayPng(join(out, image), r.image, size), writeGrayPng(join(out, mask), mask255, size)]);
      return {
        id: spec.id,
        image,
        mask,
        label: classes[spec.view]!,
        split: spec.split,
        site: spec.site.id,
        ood: spec.site.ood,
        patient: spec.patient,
        cueElement: spec.site.cue,
        cueClass: classes[spec.cueClass]!,
        cueMatchesLabel: spec.cueClass === spec.view,
        hard: spec.hard,
        apexX: r.geometry.apexX,
        apexY: r.geometry.apexY,
        halfAngleDeg: (r.geometry.halfAngle * 180) / Math.PI,
        radius: r.geometry.radius,
        innerRadius: r.geometry.innerRadius,
        depthCm: r.depthCm,
        maskFraction: r.mask.reduce((a, b) => a + b, 0) / (size * size),
      };
    },
    opts.onProgress,
  );

  const counts: Record<string, Record<string, number>> = {};
  const agree: Record<string, { n: number; match: number; hard: number }> = {};
  for (const s of samples) {
    (counts[s.split] ??= Object.fromEntries(classes.map((c) => [c, 0])))[s.label]!++;
    const a = (agree[s.split] ??= { n: 0, match: 0, hard: 0 });
    a.n++;
    if (s.cueMatchesLabel) a.match++;
    if (s.hard) a.hard++;
  }
  const manifest = join(out, 'manifest.csv');
  await writeText(manifest, manifestText(samples));
  await writeText(join(out, 'synth_samples.csv'), samplesText(samples));
  const description = {
    format: 'wgml-synth-echo',
    version: 1,
    generatorVersion: SYNTH_VERSION,
    seed,
    n,
    size,
    shortcutStrength,
    hardFraction,
    splitFractions: fractions,
    framesPerPatient: FRAMES_PER_PATIENT,
    classes,
    splits: SYNTH_SPLITS.filter((s) => counts[s]),
    files: {
      manifest: 'manifest.csv',
      samples: 'synth_samples.csv',
      frames: 'frames/{split}/{id}.png (8-bit grey)',
      masks: 'masks/{split}/{id}.png (0 background, 255 sector)',
    },
    shortcut: {
      rule:
        'i.d. sites: the cue element shows the true view with probability shortcutStrength, otherwise one of the other views uniformly; o.o.d. site: cue class drawn uniformly, independent of the view',
      elements: {
        marker: `every site: the body marker is one of four shapes, one per cue class in class order: ${CUE_MARKERS.join(', ')}`,
        font: `all text of the frame is drawn in one of four typefaces, one per cue class in class order: ${CUE_TYPEFACES.join(', ')}`,
        ecg: 'the ECG trace has one of four morphologies (0 normal, 1 inverted, 2 wide QRS, 3 paced), one per cue class in class order',
      },
      // per split: fraction of frames whose cue names the true view, and of hard frames
      agreement: Object.fromEntries(
        Object.entries(agree).map(([k, a]) => [k, { frames: a.n, cueMatchesLabel: round3(a.match / a.n), hard: round3(a.hard / a.n) }]),
      ),
    },
    sites: SITES.map((s) => ({ id: s.id, ood: s.ood, scanner: s.style.name, cueElement: s.cue, geometry: s.geometry })),
    counts,
  };
  await writeText(join(out, 'synth.json'), JSON.stringify(description, null, 2) + '\n');
  return { out, manifest, classes, counts, samples };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/**
 * True when `dir` holds a complete synth output of this generator version with these options
 * (defaults filled in), so it can be reused as is.
 */
export async function isCurrentSynthOutput(dir: string, opts: Omit<SynthOptions, 'out'>): Promise<boolean> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(join(dir, 'synth.json'), 'utf8')) as Record<string, unknown>;
    await access(join(dir, 'manifest.csv'));
  } catch {
    return false;
  }
  const want: Record<string, unknown> = {
    generatorVersion: SYNTH_VERSION,
    n: opts.n ?? SYNTH_DEFAULTS.n,
    seed: opts.seed ?? SYNTH_DEFAULTS.seed,
    size: opts.size ?? SYNTH_DEFAULTS.size,
    shortcutStrength: opts.shortcutStrength ?? SYNTH_DEFAULTS.shortcutStrength,
    hardFraction: opts.hardFraction ?? SYNTH_DEFAULTS.hardFraction,
  };
  return Object.entries(want).every(([k, v]) => json[k] === v);
}
