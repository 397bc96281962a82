// The contact sheet `wgml masks --preview N` writes: the N least confident frames (frames left
// without a mask first; with --reference, the N with the lowest IoU against it), each at twice its analysis size with the automatic mask's outline in
// green, a reference mask's outline (with --reference) in red where it differs, and under each
// tile a bar as long as the confidence (red below 0.5, amber below 0.9, green above).
// preview.csv lists the tiles in reading order, so a person can find the frame behind a tile.

import sharp from 'sharp';
import { csvLine } from '../data/csv.js';
import { binariseMask, readGray } from '../data/image_decode.js';
import { downsample } from './detect.js';
import { outline, rasterize, scaleModel } from './model.js';
import type { FrameRecord } from './run.js';

const COLUMNS = 8;
const GAP = 4;
const BAR = 6;
/** Tiles show the analysis-size frame magnified by this factor (nearest neighbour, pixels stay visible). */
const ZOOM = 2;

/** Nearest-neighbour sample of a 0/1 mask [h, w] onto [H, W]. */
function sampleMask(m: Uint8Array, w: number, h: number, W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    for (let x = 0; x < W; x++) out[y * W + x] = m[sy * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / W))]!;
  }
  return out;
}

export async function renderPreview(
  records: readonly FrameRecord[],
  scaleOf: ReadonlyMap<string, number>,
  n: number,
  reference: ReadonlyMap<string, string> | null,
): Promise<{ png: Buffer; csv: string } | null> {
  const chosen = records
    .filter((r) => r.status !== 'kept')
    // with a reference the worst masks are known, not just the least confident: they come first
    .sort((a, b) => (a.referenceIou ?? a.confidence ?? 0) - (b.referenceIou ?? b.confidence ?? 0) || (a.id < b.id ? -1 : 1))
    .slice(0, n);
  if (chosen.length === 0) return null;
  const tiles = await Promise.all(
    chosen.map(async (r) => {
      const g = await readGray(r.image);
      const k = scaleOf.get(r.id) ?? 1;
      const small = downsample(g.data, g.width, g.height, k);
      const W = small.width * ZOOM, H = small.height * ZOOM;
      const grey = sampleMask(small.data, small.width, small.height, W, H);
      const auto = r.model && r.status === 'auto' ? outline(rasterize(scaleModel(r.model, ZOOM), W, H), W, H) : null;
      let ref: Uint8Array | null = null;
      const refFile = reference?.get(r.image);
      if (refFile) {
        const m = await readGray(refFile);
        const b = binariseMask(m.data);
        if (b.ok) ref = outline(sampleMask(b.mask, m.width, m.height, W, H), W, H);
      }
      return { r, W, H, grey, auto, ref };
    }),
  );
  const cw = Math.max(...tiles.map((t) => t.W)) + GAP;
  const ch = Math.max(...tiles.map((t) => t.H)) + BAR + GAP;
  const cols = Math.min(COLUMNS, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const SW = cols * cw + GAP, SH = rows * ch + GAP;
  const rgb = Buffer.alloc(SW * SH * 3, 40);
  const put = (x: number, y: number, c: readonly [number, number, number]) => {
    const o = (y * SW + x) * 3;
    rgb[o] = c[0];
    rgb[o + 1] = c[1];
    rgb[o + 2] = c[2];
  };
  const csv = ['tile,row,column,id,image,status,confidence,source,reference_iou'];
  tiles.forEach((t, i) => {
    const ox = GAP + (i % cols) * cw, oy = GAP + Math.floor(i / cols) * ch;
    for (let y = 0; y < t.H; y++) {
      for (let x = 0; x < t.W; x++) {
        const j = y * t.W + x;
        const v = t.grey[j]!;
        // the reference outline shows where it is not under the automatic one
        put(ox + x, oy + y, t.auto?.[j] ? [0, 255, 0] : t.ref?.[j] ? [255, 40, 40] : [v, v, v]);
      }
    }
    const conf = t.r.confidence ?? 0;
    const colour: [number, number, number] = conf < 0.5 ? [220, 50, 50] : conf < 0.9 ? [230, 170, 30] : [60, 200, 60];
    const len = Math.round(conf * t.W);
    for (let y = 0; y < BAR - 2; y++) for (let x = 0; x < t.W; x++) put(ox + x, oy + t.H + 1 + y, x < len ? colour : [80, 80, 80]);
    const r = t.r;
    csv.push(csvLine([String(i + 1), String(Math.floor(i / cols) + 1), String((i % cols) + 1), r.id, r.image, r.status, r.confidence?.toFixed(4) ?? '', r.source ?? '', r.referenceIou?.toFixed(4) ?? '']));
  });
  const png = await sharp(rgb, { raw: { width: SW, height: SH, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  return { png, csv: csv.join('\n') + '\n' };
}
