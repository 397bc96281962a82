// Tiny on-disk datasets for the reader tests, written fresh into a temp folder per test file:
// grey PNGs through sharp, .npy through our own writer, CSVs by hand.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp, { type SharpOptions } from 'sharp';
import { writeNpy, type NpyDtype } from '../../src/data/npy.js';

export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `wgml-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A w × h grey test pattern whose pixels depend on `seed`, so frames are distinguishable. */
export function pattern(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = (x * 7 + y * 13 + seed * 31) % 256;
  return out;
}

/** A w × h mask: `on` inside a centred disc of radius min(w,h)/3, 0 outside. */
export function discMask(w: number, h: number, on: number): Uint8Array {
  const out = new Uint8Array(w * h);
  const r = Math.min(w, h) / 3;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = Math.hypot(x + 0.5 - w / 2, y + 0.5 - h / 2) <= r ? on : 0;
  }
  return out;
}

/** Writes grey `data` as a PNG with 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) channels; alpha is opaque. */
export async function writePng(file: string, w: number, h: number, data: Uint8Array, channels: 1 | 2 | 3 | 4 = 1): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const raw = new Uint8Array(w * h * channels);
  const colour = channels >= 3 ? 3 : 1;
  for (let i = 0; i < w * h; i++) {
    raw.fill(data[i]!, channels * i, channels * i + colour);
    if (channels === 2 || channels === 4) raw[channels * i + channels - 1] = 255;
  }
  const img = sharp(Buffer.from(raw), { raw: { width: w, height: h, channels } });
  // 'b-w' keeps a grey PNG grey; libvips would otherwise save it as sRGB
  await (colour === 1 ? img.toColourspace('b-w') : img).png().toFile(file);
}

/** A 16-bit grey PNG (which the readers reject). */
export async function writePng16(file: string, w: number, h: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const raw = new Uint16Array(w * h).map((_, i) => i * 97);
  // sharp reads raw.depth at run time; its type definitions omit it
  const input = { raw: { width: w, height: h, channels: 1, depth: 'ushort' } } as unknown as SharpOptions;
  await sharp(Buffer.from(raw.buffer), input)
    .toColourspace('grey16')
    .png()
    .toFile(file);
}

export async function writeJpeg(file: string, w: number, h: number, data: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 95 }).toFile(file);
}

export async function writeNpyFile(file: string, rows: number, cols: number, dtype: NpyDtype, data: ArrayLike<number>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, writeNpy(rows, cols, dtype, data));
}

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

/** Runs `fn`, expects it to reject, and returns the error for inspection. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but the call succeeded');
}
