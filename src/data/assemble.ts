// Turns the records a reader found into a Dataset: decodes every frame and mask once (bounded
// concurrency), validates them, and either throws one DatasetError listing every bad record —
// bad CSV records and unusable images together, so one run shows everything to fix — or, with
// skipBad, leaves those records out and lists them in `dataset.skipped`.

import type { Dataset, DatasetFormat, Sample } from './dataset.js';
import { DatasetError, type DataIssue } from './errors.js';
import { binariseMask, ImageReadError, readGray, resizeFrame, resizeMaskNearest } from './image_decode.js';
import { defaultConcurrency, mapLimit } from './map_limit.js';

/** Options every reader and `loadDataset` accept. */
export interface LoadOptions {
  /** Model input size; frames and masks are resized to size × size. Default 112. */
  size?: number;
  /** Leave bad records out (listed in `dataset.skipped`) instead of throwing. Default false. */
  skipBad?: boolean;
  /** Files decoded at once. Default: 2 × cores, clamped to 8..16. */
  concurrency?: number;
  /** Class names in label order. Default: the canonical four views. */
  classes?: string[];
  /** Called after each record is decoded. */
  onProgress?: (done: number, total: number) => void;
}

/** A record a reader found, not yet decoded. */
export interface Candidate {
  id: string;
  /** Absolute path of the frame. */
  file: string;
  /** Absolute path of the mask, if the record has one. */
  maskFile?: string;
  label: number;
  split: string;
  site?: string;
  /** 1-based CSV line, or null for folder layouts. */
  row: number | null;
}

/** What a reader hands to `assembleDataset`. */
export interface ReaderOutput {
  format: DatasetFormat;
  source: string;
  classes: string[];
  candidates: Candidate[];
  /** Records already rejected while reading (unknown label, duplicate, empty split, …). */
  issues: DataIssue[];
  dropped: Record<string, number>;
}

type Decoded = { frame: Uint8Array; mask: Uint8Array | null } | { issue: DataIssue };

async function decodeOne(c: Candidate, source: string, size: number): Promise<Decoded> {
  const at = (file: string, reason: string): { issue: DataIssue } => ({
    issue: { file, row: c.row, reason, ...(c.row !== null ? { source } : {}) },
  });
  let frame;
  try {
    frame = await readGray(c.file);
  } catch (e) {
    if (e instanceof ImageReadError) return at(c.file, `frame: ${e.message}`);
    throw e;
  }
  let mask: Uint8Array | null = null;
  if (c.maskFile !== undefined) {
    let m;
    try {
      m = await readGray(c.maskFile);
    } catch (e) {
      if (e instanceof ImageReadError) return at(c.maskFile, `mask: ${e.message}`);
      throw e;
    }
    if (m.width !== frame.width || m.height !== frame.height) {
      return at(
        c.maskFile,
        `mask is ${m.width}×${m.height} but its frame ${c.file} is ${frame.width}×${frame.height}; expected the same size`,
      );
    }
    const b = binariseMask(m.data);
    if (!b.ok) {
      const shown = b.found.slice(0, 6).join(', ') + (b.found.length > 6 ? ', …' : '');
      return at(c.maskFile, `mask holds values {${shown}}; expected only {0,1} or only {0,255}`);
    }
    mask = resizeMaskNearest({ width: m.width, height: m.height, data: b.mask }, size);
  }
  return { frame: await resizeFrame(frame, size), mask };
}

/** Issues in CSV order (records without a line last, in the order found). */
function byRow(issues: DataIssue[]): DataIssue[] {
  return issues.map((issue, k) => ({ issue, k }))
    .sort((a, b) => (a.issue.row ?? Infinity) - (b.issue.row ?? Infinity) || a.k - b.k)
    .map(({ issue }) => issue);
}

function describe(out: ReaderOutput): string {
  return `${out.format} dataset ${out.source}`;
}

export async function assembleDataset(out: ReaderOutput, opts: LoadOptions = {}): Promise<Dataset> {
  const size = opts.size ?? 112;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  const skipBad = opts.skipBad ?? false;
  const decoded = await mapLimit(
    out.candidates,
    opts.concurrency ?? defaultConcurrency(),
    (c) => decodeOne(c, out.source, size),
    opts.onProgress,
  );
  const decodeIssues = decoded.flatMap((d) => ('issue' in d ? [d.issue] : []));
  const issues = byRow([...out.issues, ...decodeIssues]);
  if (issues.length > 0 && !skipBad) {
    throw new DatasetError(`${describe(out)}: bad records`, issues, { skippable: true });
  }

  const p = size * size;
  const kept = decoded.flatMap((d, i) => ('issue' in d ? [] : [{ d, c: out.candidates[i]! }]));
  if (kept.length === 0) {
    throw new DatasetError(`${describe(out)}: no usable samples`, [
      { file: out.source, row: null, reason: 'expected at least one readable record with a known label' },
    ]);
  }
  const frames = new Uint8Array(kept.length * p);
  const anyMask = kept.some(({ d }) => d.mask !== null);
  const masks = anyMask ? new Uint8Array(kept.length * p) : null;
  const samples: Sample[] = kept.map(({ d, c }, i) => {
    frames.set(d.frame, i * p);
    if (d.mask && masks) masks.set(d.mask, i * p);
    const s: Sample = { id: c.id, file: c.file, label: c.label, split: c.split, mask: d.mask !== null };
    if (c.site !== undefined) s.site = c.site;
    if (c.maskFile !== undefined) s.maskFile = c.maskFile;
    if (c.row !== null) s.row = c.row;
    return s;
  });
  return {
    format: out.format,
    source: out.source,
    classes: out.classes,
    size,
    samples,
    frames,
    masks,
    skipped: issues,
    dropped: out.dropped,
  };
}
