// `wgml masks` without the command line: reads any dataset layout wgml reads, fits a sector
// mask to every frame that has none (every frame with `overwrite`), writes the masks as PNGs
// at each frame's own size, a manifest whose `mask` column points at them, a per-frame report
// and optionally a contact sheet of the least confident frames.
//
//   OUT/masks/<id>.png   0/255 masks, the frame's size
//   OUT/manifest.csv     image,label,split,mask,site (paths relative to OUT) — what loadDataset reads
//   OUT/masks.csv        per frame: status, confidence, source (own fit or group), group, model
//   OUT/masks.json       options, counts, timings, per-group consensus (and IoU with --reference)
//   OUT/preview.png      with preview > 0: frames with the mask outline, worst confidence first
//   OUT/preview.csv      which frame each preview tile shows
//
// Every file is written atomically (src/nn/atomic_write.ts), the manifest last, so an
// interrupted run leaves the previous manifest (if any) pointing at complete masks.

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Candidate, ReaderOutput } from '../data/assemble.js';
import { scanBackmix } from '../data/backmix_reader.js';
import { csvLine } from '../data/csv.js';
import { CANONICAL_CLASSES } from '../data/dataset.js';
import { DatasetError, type DataIssue } from '../data/errors.js';
import { binariseMask, ImageReadError, readGray, type GrayImage } from '../data/image_decode.js';
import { detectFormat } from '../data/load_dataset.js';
import { scanManifest } from '../data/manifest_reader.js';
import { defaultConcurrency, mapLimit } from '../data/map_limit.js';
import { scanTmed } from '../data/tmed_reader.js';
import { writeFileAtomic } from '../nn/atomic_write.js';
import { fitEvidence, gatherEvidence, modelConfidence, type Evidence, type FitMethod } from './detect.js';
import { chooseSource, groupConsensus, type Consensus } from './group.js';
import { iou, rasterize, scaleModel, type SectorModel } from './model.js';
import { decodeGrayPng, encodeGrayPng } from './png.js';
import { renderPreview } from './preview.js';

export const MASK_METHODS: readonly FitMethod[] = ['fan', 'hull'];

/**
 * Default --min-confidence. Confidence is the IoU of the fitted mask with the frame's own
 * evidence; a frame whose heart is hidden by a dense shadow shows only part of its sector, so
 * even a correct mask scores low there (0.25 was the lowest of a correct mask — IoU 0.92 with
 * the truth — over three draws of the synthetic benchmark), while frames with no sector score 0.
 */
export const DEFAULT_MIN_CONFIDENCE = 0.2;

export interface MaskRunOptions {
  /** Dataset: manifest CSV, TMED-2 CSV, or a folder holding manifest.csv or the BackMix layout. */
  data: string;
  out: string;
  method?: FitMethod;
  /** Frames whose mask scores below this are left without one. Default DEFAULT_MIN_CONFIDENCE. */
  minConfidence?: number;
  /** Tiles in the preview contact sheet (0 = none). */
  preview?: number;
  /** Fit masks also for frames that already have one (and replace them in the manifest). */
  overwrite?: boolean;
  /** A dataset with true masks for (some of) the same frames: report IoU per site, outline them in the preview. */
  reference?: string;
  concurrency?: number;
  /** Progress per phase ('fit' reads and fits, 'write' writes masks). */
  onProgress?: (phase: 'fit' | 'write', done: number, total: number) => void;
}

export type FrameStatus = 'auto' | 'kept' | 'low-confidence';

export interface FrameRecord {
  id: string;
  image: string;
  label: string;
  split: string;
  site: string;
  group: string;
  status: FrameStatus;
  /** Written mask (absolute), or the kept one; absent when the frame is left without a mask. */
  maskFile?: string;
  confidence: number | null;
  source: 'own' | 'group' | null;
  model: SectorModel | null;
  width: number;
  height: number;
  reason?: string;
  /** IoU with the reference mask (native size), when a reference mask exists. */
  referenceIou?: number;
}

export interface SiteIou {
  site: string;
  frames: number;
  /** Mean IoU, frames left without a mask counting 0. */
  meanIou: number;
  /** Mean IoU over the frames that got a mask. */
  meanIouMasked: number;
  minIou: number;
  unmasked: number;
}

export interface MaskRunResult {
  out: string;
  manifest: string;
  report: string;
  summary: string;
  preview: string | null;
  frames: number;
  auto: number;
  kept: number;
  lowConfidence: number;
  /** Frames masked from their group's consensus rather than their own fit. */
  fromGroup: number;
  seconds: { fit: number; write: number; total: number };
  records: FrameRecord[];
  reference: SiteIou[] | null;
}

/** Per-frame state between the fitting pass and the group pass. */
interface Work {
  c: Candidate;
  group: string;
  width: number;
  height: number;
  scale: number;
  aw: number;
  ah: number;
  own: { model: SectorModel | null; confidence: number; reason?: string };
  /** The evidence region, one bit per analysis pixel (kept so a consensus can be scored on it later). */
  regionBits: Uint8Array;
}

async function scan(data: string): Promise<ReaderOutput> {
  const d = await detectFormat(data);
  if (d.format === 'manifest') return scanManifest(d.csv);
  if (d.format === 'tmed2') return scanTmed(d.csv);
  return scanBackmix(d.dir);
}

/**
 * The group a frame shares its geometry with: its site when the dataset names one; for TMED-2
 * its study (the query key up to its last '_', e.g. 1000s1 for 1000s1_0.png); otherwise the
 * whole dataset. Always split by frame size, since the geometry is in pixels.
 */
export function groupKey(c: Candidate, format: string, width: number, height: number): string {
  let g = 'all';
  if (c.site) g = `site ${c.site}`;
  else if (format === 'tmed2') {
    const k = c.id.lastIndexOf('_');
    g = `study ${k > 0 ? c.id.slice(0, k) : c.id}`;
  }
  return `${g} ${width}x${height}`;
}

function packBits(m: Uint8Array): Uint8Array {
  const out = new Uint8Array((m.length + 7) >> 3);
  for (let i = 0; i < m.length; i++) if (m[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function unpackBits(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (b[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** '/'-separated path of `file` relative to `dir` (what manifests hold). */
function rel(dir: string, file: string): string {
  return relative(dir, file).split(sep).join('/');
}

/**
 * A mask PNG (0/255) replaces `file` by write-to-temporary + rename, so no reader (nor a
 * manifest of an earlier run) ever sees half a file. Unlike writeFileAtomic it does not fsync
 * each of the thousands of masks (about 1 ms each here, a quarter of the time budget); the
 * manifest that points at them is written last with writeFileAtomic.
 */
async function writeMaskPng(file: string, mask01: Uint8Array, width: number, height: number): Promise<void> {
  const px = new Uint8Array(mask01.length);
  for (let i = 0; i < mask01.length; i++) px[i] = mask01[i] ? 255 : 0;
  const png = await encodeGrayPng(px, width, height);
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    await writeFile(tmp, png);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Reference masks by absolute frame path (decoded lazily, native size, 0/1). */
async function referenceMasks(ref: string): Promise<Map<string, string>> {
  const out = await scan(ref);
  const m = new Map<string, string>();
  for (const c of out.candidates) if (c.maskFile) m.set(c.file, c.maskFile);
  if (m.size === 0) {
    throw new DatasetError(`--reference ${ref} holds no masks`, [{ file: out.source, row: null, reason: 'expected a dataset with a mask for at least one frame' }]);
  }
  return m;
}

async function readMask01(file: string): Promise<GrayImage> {
  const g = await readGray(file);
  const b = binariseMask(g.data);
  if (!b.ok) throw new ImageReadError(`mask holds values other than {0,1} or {0,255}`);
  return { width: g.width, height: g.height, data: b.mask };
}

export async function runMasks(opts: MaskRunOptions): Promise<MaskRunResult> {
  const started = performance.now();
  const method = opts.method ?? 'fan';
  if (!MASK_METHODS.includes(method)) throw new RangeError(`method must be one of ${MASK_METHODS.join(', ')}, got '${method}'`);
  const minConfidence = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new RangeError(`minConfidence must be in [0, 1], got ${minConfidence}`);
  const previewCount = opts.preview ?? 0;
  if (!Number.isInteger(previewCount) || previewCount < 0) throw new RangeError(`preview must be a non-negative integer, got ${previewCount}`);
  const concurrency = opts.concurrency ?? defaultConcurrency();
  const out = resolve(opts.out);
  const scanned = await scan(opts.data);
  if (resolve(scanned.source) === join(out, 'manifest.csv')) {
    // the output manifest would replace the dataset's own, and with it the only record of
    // the masks it already had
    throw new DatasetError(`--out ${out} would overwrite the dataset's manifest`, [
      { file: scanned.source, row: null, reason: 'expected an output folder other than the one holding the input manifest.csv' },
    ]);
  }
  const reference = opts.reference ? await referenceMasks(opts.reference) : null;
  const classes = scanned.classes.length ? scanned.classes : [...CANONICAL_CLASSES];

  // ---- pass 1: read and fit every frame that needs a mask (all bad files reported together)
  const issues: DataIssue[] = [...scanned.issues];
  const needs = scanned.candidates.filter((c) => opts.overwrite || c.maskFile === undefined);
  const fitted = await mapLimit(
    needs,
    concurrency,
    async (c): Promise<Work | null> => {
      let g: GrayImage;
      try {
        g = (await decodeGrayPng(await readFile(c.file).catch(() => new Uint8Array(0)))) ?? (await readGray(c.file));
      } catch (e) {
        if (!(e instanceof ImageReadError)) throw e;
        issues.push({ file: c.file, row: c.row, reason: `frame: ${e.message}`, ...(c.row !== null ? { source: scanned.source } : {}) });
        return null;
      }
      const ev: Evidence = gatherEvidence(g.data, g.width, g.height);
      const own = fitEvidence(ev, method);
      return {
        c,
        group: groupKey(c, scanned.format, g.width, g.height),
        width: g.width,
        height: g.height,
        scale: ev.scale,
        aw: ev.width,
        ah: ev.height,
        own,
        regionBits: packBits(ev.region),
      };
    },
    (done, total) => opts.onProgress?.('fit', done, total),
  );
  if (issues.length > 0) {
    issues.sort((a, b) => (a.row ?? Infinity) - (b.row ?? Infinity));
    throw new DatasetError(`${scanned.format} dataset ${scanned.source}: bad records`, issues);
  }
  const fitSeconds = (performance.now() - started) / 1000;

  // ---- pass 2: the group consensus, and each frame's final model
  const works = fitted.filter((w): w is Work => w !== null);
  const byGroup = new Map<string, Work[]>();
  for (const w of works) {
    const list = byGroup.get(w.group);
    if (list) list.push(w);
    else byGroup.set(w.group, [w]);
  }
  const consensus = new Map<string, Consensus | null>();
  for (const [g, ws] of byGroup) consensus.set(g, method === 'fan' ? groupConsensus(ws.map((w) => w.own), Math.max(ws[0]!.aw, ws[0]!.ah)) : null);

  const workOf = new Map(works.map((w) => [w.c, w]));
  const records: FrameRecord[] = scanned.candidates.map((c) => {
    const base = { id: c.id, image: c.file, label: classes[c.label] ?? String(c.label), split: c.split, site: c.site ?? '' };
    const w = workOf.get(c);
    if (!w) {
      return { ...base, group: '', status: 'kept', maskFile: c.maskFile!, confidence: null, source: null, model: null, width: 0, height: 0 };
    }
    const cons = consensus.get(w.group) ?? null;
    const source = chooseSource(w.own, cons, Math.max(w.aw, w.ah));
    let model = w.own.model;
    let confidence = w.own.confidence;
    if (source === 'group') {
      model = cons!.model;
      const ev = { width: w.aw, height: w.ah, region: unpackBits(w.regionBits, w.aw * w.ah) } as Evidence;
      confidence = modelConfidence(model, ev);
    }
    const r: FrameRecord = { ...base, group: w.group, status: 'auto', confidence, source, model, width: w.width, height: w.height };
    if (!model || confidence < minConfidence) {
      r.status = 'low-confidence';
      r.reason = model ? `confidence ${confidence.toFixed(3)} below ${minConfidence}` : (w.own.reason ?? 'no sector found');
    }
    return r;
  });

  // ---- pass 3: write masks (and compare with the reference)
  const writeStart = performance.now();
  const made = new Set<string>();
  const ensureDir = async (d: string) => {
    if (made.has(d)) return;
    await mkdir(d, { recursive: true });
    made.add(d);
  };
  await ensureDir(out);
  const scaleOf = new Map(works.map((w) => [w.c.id, w.scale]));
  await mapLimit(
    records,
    concurrency,
    async (r) => {
      let mine: Uint8Array | null = null;
      if (r.status === 'auto') {
        mine = rasterize(scaleModel(r.model!, scaleOf.get(r.id) ?? 1), r.width, r.height);
        r.maskFile = join(out, 'masks', `${r.id}.png`);
        await ensureDir(dirname(r.maskFile));
        await writeMaskPng(r.maskFile, mine, r.width, r.height);
      }
      const refFile = reference?.get(r.image);
      if (refFile && r.status !== 'kept') {
        const ref = await readMask01(refFile);
        if (ref.width !== r.width || ref.height !== r.height) {
          throw new DatasetError('--reference: mask size differs from its frame', [
            { file: refFile, row: null, reason: `mask is ${ref.width}×${ref.height}, frame ${r.image} is ${r.width}×${r.height}` },
          ]);
        }
        // a frame left without a mask scores 0: it gets no BackMix, which is the cost to count
        r.referenceIou = r.status === 'auto' ? iou(mine!, ref.data) : 0;
      }
    },
    (done, total) => opts.onProgress?.('write', done, total),
  );

  // ---- manifest, report, summary (manifest last)
  const manifestLines = ['image,label,split,mask,site'];
  for (const r of records) manifestLines.push(csvLine([rel(out, r.image), r.label, r.split, r.maskFile ? rel(out, r.maskFile) : '', r.site]));
  const reportLines = ['id,image,status,confidence,source,group,mask,kind,apex_x,apex_y,theta_left_deg,theta_right_deg,radius,inner_radius,reference_iou,reason'];
  for (const r of records) {
    const f = (v: number | undefined, d = 3) => (v === undefined ? '' : v.toFixed(d));
    const m = r.model ? scaleModel(r.model, scaleOf.get(r.id) ?? 1) : null;
    const fan = m?.kind === 'fan' ? m : null;
    reportLines.push(
      csvLine([
        r.id, rel(out, r.image), r.status, r.confidence === null ? '' : r.confidence.toFixed(4), r.source ?? '', r.group,
        r.maskFile ? rel(out, r.maskFile) : '', m?.kind ?? '',
        f(fan?.apexX, 2), f(fan?.apexY, 2), f(fan ? (fan.thetaLeft * 180) / Math.PI : undefined, 2), f(fan ? (fan.thetaRight * 180) / Math.PI : undefined, 2),
        f(fan?.radius, 2), f(fan?.innerRadius, 2), f(r.referenceIou, 4), r.reason ?? '',
      ]),
    );
  }
  const referenceIou = reference ? siteIou(records) : null;
  let preview: string | null = null;
  if (previewCount > 0) {
    const sheet = await renderPreview(records, scaleOf, previewCount, reference);
    if (sheet) {
      preview = join(out, 'preview.png');
      await writeFileAtomic(preview, sheet.png);
      await writeFileAtomic(join(out, 'preview.csv'), Buffer.from(sheet.csv));
    }
  }
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const count = (s: FrameStatus) => records.filter((r) => r.status === s).length;
  const result: MaskRunResult = {
    out,
    manifest: join(out, 'manifest.csv'),
    report: join(out, 'masks.csv'),
    summary: join(out, 'masks.json'),
    preview,
    frames: records.length,
    auto: count('auto'),
    kept: count('kept'),
    lowConfidence: count('low-confidence'),
    fromGroup: records.filter((r) => r.status === 'auto' && r.source === 'group').length,
    seconds: { fit: fitSeconds, write: writeSeconds, total: (performance.now() - started) / 1000 },
    records,
    reference: referenceIou,
  };
  const summary = {
    data: scanned.source,
    format: scanned.format,
    method,
    minConfidence,
    overwrite: !!opts.overwrite,
    frames: result.frames,
    auto: result.auto,
    kept: result.kept,
    lowConfidence: result.lowConfidence,
    fromGroup: result.fromGroup,
    seconds: result.seconds,
    framesPerSecond: result.frames / result.seconds.total,
    groups: [...consensus].map(([group, c]) => ({ group, frames: byGroup.get(group)!.length, consensus: c ? { ...c.model, voters: c.voters } : null })),
    reference: referenceIou,
  };
  await writeFileAtomic(result.report, Buffer.from(reportLines.join('\n') + '\n'));
  await writeFileAtomic(result.summary, Buffer.from(JSON.stringify(summary, null, 2) + '\n'));
  await writeFileAtomic(result.manifest, Buffer.from(manifestLines.join('\n') + '\n'));
  return result;
}

/** IoU with the reference per site (the group when the dataset names no site), in order of first appearance. */
export function siteIou(records: readonly FrameRecord[]): SiteIou[] {
  const by = new Map<string, FrameRecord[]>();
  for (const r of records) {
    if (r.referenceIou === undefined) continue;
    const k = r.site || r.group;
    const list = by.get(k);
    if (list) list.push(r);
    else by.set(k, [r]);
  }
  return [...by].map(([site, rs]) => {
    const v = rs.map((r) => r.referenceIou!);
    const masked = rs.filter((r) => r.status === 'auto').map((r) => r.referenceIou!);
    return {
      site,
      frames: rs.length,
      meanIou: v.reduce((a, b) => a + b, 0) / v.length,
      meanIouMasked: masked.length ? masked.reduce((a, b) => a + b, 0) / masked.length : 0,
      minIou: Math.min(...v),
      unmasked: rs.length - masked.length,
    };
  });
}
