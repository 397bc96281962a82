// GradCAM pictures: the heatmap (computed on the GPU, read back only to draw it) blended over
// the frame with a jet colormap and the sector mask's outline in green; plus a contact sheet.
import sharp from 'sharp';
import { mkdirSync } from 'node:fs';
import { join, basename, extname } from 'node:path';
import { loadDataset, splitIndices, frameAt, maskAt } from '../data/index.js';
import { Tensor, scope } from '../nn/tensor.js';
import { gradCamBatch } from '../nn/gradcam.js';
import { openCheckpoint, toModelInput } from './inference.js';
import { GpuDataset } from '../backmix/gpu_dataset.js';

export interface GradCamImagesOptions {
  checkpoint: string;
  data: string;
  out: string;
  n?: number;
  split?: string;
  target?: 'pred' | 'true';
  adapter?: string;
  classes?: string[];
  imageSize?: number;
  batch?: number;
}

export interface GradCamImage {
  id: string;
  file: string;
  label: string;
  predicted: string;
  png: string;
}

/** Jet colormap of v ∈ [0,1] as [r,g,b] 0..255. */
export function jet(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

/** RGB overlay: frame (grey) blended 50/50 with jet(z); mask boundary pixels drawn green. */
export function overlayRgb(frame: Uint8Array, z: Float32Array, mask: Uint8Array | null, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const [r, g, b] = jet(z[p]!);
    const f = frame[p]!;
    out[p * 3] = (f + r) >> 1;
    out[p * 3 + 1] = (f + g) >> 1;
    out[p * 3 + 2] = (f + b) >> 1;
    if (mask) {
      const y = Math.floor(p / size);
      const x = p % size;
      const m = mask[p]!;
      const edge = (x > 0 && mask[p - 1] !== m) || (y > 0 && mask[p - size] !== m);
      if (edge) {
        out[p * 3] = 0;
        out[p * 3 + 1] = 255;
        out[p * 3 + 2] = 0;
      }
    }
  }
  return out;
}

export async function writeGradCamImages(o: GradCamImagesOptions): Promise<{ images: GradCamImage[]; sheet: string }> {
  const ck = await openCheckpoint(o.checkpoint, { adapter: o.adapter, classes: o.classes });
  try {
    const ds = await loadDataset(o.data, { size: o.imageSize ?? ck.imageSize ?? 112, classes: ck.classes });
    const split = o.split ?? 'test';
    const all = split === 'all' ? ds.samples.map((_, i) => i) : splitIndices(ds, split);
    const chosen = all.slice(0, o.n ?? 32);
    const data = new GpuDataset(ck.rt, ds);
    const S = ds.size;
    mkdirSync(o.out, { recursive: true });
    const images: GradCamImage[] = [];
    const tiles: { input: Buffer; left: number; top: number }[] = [];
    const cols = Math.ceil(Math.sqrt(chosen.length));
    const batch = o.batch ?? 16;
    try {
      for (let start = 0; start < chosen.length; start += batch) {
        const idx = chosen.slice(start, start + batch);
        const { z, preds } = await scope(async () => {
          const pre = data.preprocess(idx);
          const x = new Tensor(ck.rt, [idx.length, 1, S, S], pre.x, 'f32', false, 'gradcam.x');
          const target = o.target === 'true' ? Tensor.fromArray(ck.rt, Uint32Array.from(pre.labels), [idx.length], 'labels') : 'pred';
          const cam = await gradCamBatch(ck.model, toModelInput(ck, x), target);
          const logits = await cam.logits.toArray();
          const K = ck.classes.length;
          const preds = idx.map((_, r) => {
            const row = Array.from(logits.subarray(r * K, (r + 1) * K));
            return row.indexOf(Math.max(...row));
          });
          return { z: await cam.z.toArray(), preds };
        });
        for (let r = 0; r < idx.length; r++) {
          const i = idx[r]!;
          const s = ds.samples[i]!;
          const rgb = overlayRgb(frameAt(ds, i), z.subarray(r * S * S, (r + 1) * S * S), maskAt(ds, i), S);
          const png = join(o.out, `${String(start + r).padStart(3, '0')}_${basename(s.file, extname(s.file))}.png`);
          const buf = await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).png().toBuffer();
          await sharp(buf).toFile(png);
          images.push({ id: s.id, file: s.file, label: ds.classes[s.label]!, predicted: ck.classes[preds[r]!]!, png });
          const k = start + r;
          tiles.push({ input: buf, left: (k % cols) * (S + 2), top: Math.floor(k / cols) * (S + 2) });
        }
      }
    } finally {
      data.dispose();
    }
    const rows = Math.ceil(chosen.length / cols);
    const sheet = join(o.out, 'contact_sheet.png');
    await sharp({ create: { width: cols * (S + 2), height: rows * (S + 2), channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .composite(tiles)
      .png()
      .toFile(sheet);
    return { images, sheet };
  } finally {
    ck.close();
  }
}
