// The one in-memory form every reader produces. Frames are decoded once into a single
// contiguous buffer so the trainer can upload them (or slices of them) without per-sample
// allocations, and so a sub-dataset is a plain copy of byte ranges.

import { DatasetError, formatIssues, type DataIssue } from './errors.js';

/** Canonical view order; labels are indices into this list when a dataset uses these views. */
export const CANONICAL_CLASSES: readonly string[] = ['PLAX', 'PSAX-AV', 'A2C', 'A4C'];

export type DatasetFormat = 'manifest' | 'tmed2' | 'backmix' | 'subset';

export interface Sample {
  /** Unique within the dataset (file path relative to the dataset root, without extension). */
  id: string;
  /** Absolute path of the frame file. */
  file: string;
  /** Index into `Dataset.classes`. */
  label: number;
  split: string;
  site?: string;
  /** True when `Dataset.masks` holds this sample's sector mask. */
  mask: boolean;
  /** Absolute path of the mask file, when there is one. */
  maskFile?: string;
  /** 1-based line of the CSV record this sample came from (absent for folder layouts). */
  row?: number;
}

/** A record left out because of bad input (only with `skipBad: true`). */
export type SkippedRow = DataIssue;

export interface Dataset {
  format: DatasetFormat;
  /** The CSV file or directory the dataset was read from. */
  source: string;
  classes: string[];
  /** Frames are size × size (H = W). */
  size: number;
  samples: Sample[];
  /** frames: [N, size, size] u8, row-major, sample i at offset i*size*size. */
  frames: Uint8Array;
  /**
   * masks: [N, size, size] u8 with values 0/1 (1 = inside the sector), or null when no sample
   * has a mask. Rows of samples whose `mask` is false are all zero and carry no meaning.
   */
  masks: Uint8Array | null;
  skipped: SkippedRow[];
  /** Records left out on purpose (e.g. TMED-2 views other than the four), counted per label. */
  dropped: Record<string, number>;
}

export function pixelsPerFrame(ds: Pick<Dataset, 'size'>): number {
  return ds.size * ds.size;
}

/** frame i: [size, size] u8, a view into `ds.frames` (no copy). */
export function frameAt(ds: Dataset, i: number): Uint8Array {
  const p = pixelsPerFrame(ds);
  return ds.frames.subarray(i * p, (i + 1) * p);
}

/** mask i: [size, size] u8 0/1, a view into `ds.masks`, or null when sample i has none. */
export function maskAt(ds: Dataset, i: number): Uint8Array | null {
  if (!ds.masks || !ds.samples[i]?.mask) return null;
  const p = pixelsPerFrame(ds);
  return ds.masks.subarray(i * p, (i + 1) * p);
}

/** Split names in order of first appearance. */
export function splitNames(ds: Dataset): string[] {
  return [...new Set(ds.samples.map((s) => s.split))];
}

/**
 * Indices of the samples in `split`, in dataset order. An empty split is an error, not an
 * empty list: training or evaluating on nothing always means a wrong name or a broken file.
 */
export function splitIndices(ds: Dataset, split: string): number[] {
  const out: number[] = [];
  ds.samples.forEach((s, i) => {
    if (s.split === split) out.push(i);
  });
  if (out.length === 0) {
    const have = splitNames(ds);
    throw new DatasetError(`split '${split}' is empty`, [
      {
        file: ds.source,
        row: null,
        reason: `expected at least one sample with split '${split}'; the splits present are ${
          have.length ? have.map((h) => `'${h}'`).join(', ') : '(none)'
        }`,
      },
    ]);
  }
  return out;
}

/** A new dataset holding copies of the given samples' frames and masks, in the given order. */
export function subset(ds: Dataset, indices: readonly number[]): Dataset {
  const p = pixelsPerFrame(ds);
  const frames = new Uint8Array(indices.length * p);
  const samples: Sample[] = [];
  let anyMask = false;
  indices.forEach((src, dst) => {
    const s = ds.samples[src];
    if (!s) throw new RangeError(`subset: index ${src} outside 0..${ds.samples.length - 1}`);
    samples.push({ ...s });
    frames.set(ds.frames.subarray(src * p, (src + 1) * p), dst * p);
    anyMask ||= s.mask;
  });
  let masks: Uint8Array | null = null;
  if (ds.masks && anyMask) {
    masks = new Uint8Array(indices.length * p);
    indices.forEach((src, dst) => masks!.set(ds.masks!.subarray(src * p, (src + 1) * p), dst * p));
  }
  return {
    format: 'subset',
    source: ds.source,
    classes: [...ds.classes],
    size: ds.size,
    samples,
    frames,
    masks,
    skipped: [],
    dropped: {},
  };
}

/** The samples of one split as their own dataset (throws DatasetError when it is empty). */
export function selectSplit(ds: Dataset, split: string): Dataset {
  return subset(ds, splitIndices(ds, split));
}

/** counts[split][className] — for summaries and for checking a dataset came out as expected. */
export function countBySplitAndClass(ds: Dataset): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of ds.samples) {
    const row = (out[s.split] ??= Object.fromEntries(ds.classes.map((c) => [c, 0])));
    const name = ds.classes[s.label] ?? String(s.label);
    row[name] = (row[name] ?? 0) + 1;
  }
  return out;
}

/** A fixed-width text table of counts per split × class, with totals. */
export function formatCounts(counts: Record<string, Record<string, number>>, classes: readonly string[]): string {
  const splits = Object.keys(counts);
  const header = ['split', ...classes, 'total'];
  const rows = splits.map((sp) => {
    const r = counts[sp]!;
    const vals = classes.map((c) => r[c] ?? 0);
    return [sp, ...vals.map(String), String(vals.reduce((a, b) => a + b, 0))];
  });
  const totals = classes.map((c) => splits.reduce((a, sp) => a + (counts[sp]![c] ?? 0), 0));
  rows.push(['total', ...totals.map(String), String(totals.reduce((a, b) => a + b, 0))]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * What a caller prints after loading with skipBad: null when nothing was skipped, else
 * "skipped N bad records of SOURCE:" followed by the first 20 of them.
 */
export function skippedSummary(ds: Dataset): string | null {
  const n = ds.skipped.length;
  if (n === 0) return null;
  return `skipped ${n} bad record${n === 1 ? '' : 's'} of ${ds.source}:\n${formatIssues(ds.skipped)}`;
}

/** "dropped 12 A4CorA2CorOther" — records left out on purpose, or null when there are none. */
export function droppedSummary(ds: Dataset): string | null {
  const parts = Object.entries(ds.dropped).map(([label, k]) => `${k} ${label}`);
  return parts.length ? `dropped ${parts.join(', ')} (views outside ${ds.classes.join(', ')})` : null;
}
