// Decoding one image file to 8-bit grey at its own size, and resizing to the model size.
// PNG/JPEG (and whatever else libvips reads) go through sharp; .npy through our own parser.
//
// Resampling filters: frames use sharp's 'lanczos3' (sharp's default, sharp edges without much
// ringing at the 2-4x reductions echo frames need); masks use nearest neighbour so they stay
// exactly binary.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import { NpyFormatError, parseNpy } from './npy.js';

export const FRAME_RESIZE_KERNEL = 'lanczos3' as const;
export const MASK_RESIZE_KERNEL = 'nearest' as const;

/** data: [height, width] u8 grey, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Why a file could not be turned into a grey image; `reason` includes what was expected. */
export class ImageReadError extends Error {
  override name = 'ImageReadError';
}

const EXPECTED = 'expected a readable 8-bit PNG or JPEG image, or a 2-D .npy array';

/** Reads and decodes `file` to grey at its native size. Colour is converted to luma; alpha dropped. */
export async function readGray(file: string): Promise<GrayImage> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageReadError(`file not found; ${EXPECTED}`);
    if (code === 'EISDIR') throw new ImageReadError(`is a directory; ${EXPECTED}`);
    throw new ImageReadError(`cannot read file (${code ?? (e as Error).message}); ${EXPECTED}`);
  }
  if (extname(file).toLowerCase() === '.npy') {
    try {
      const a = parseNpy(buf);
      return { width: a.cols, height: a.rows, data: a.data };
    } catch (e) {
      if (e instanceof NpyFormatError) throw new ImageReadError(`cannot parse .npy: ${e.message}`);
      throw e;
    }
  }
  if (isSixteenBitPng(buf)) throw new ImageReadError(`16-bit PNG; expected an 8-bit image`);
  try {
    // One pipeline for grey, grey+alpha, RGB and RGBA: drop alpha, then luma. (Asking sharp for
    // metadata first would cost a second header parse per file; the raw output says enough.)
    const { data, info } = await sharp(buf, { failOn: 'error' }).removeAlpha().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || data.length !== info.width * info.height) {
      throw new ImageReadError(`decoded to ${info.channels} channels, ${data.length} bytes for ${info.width}×${info.height}; expected 8-bit grey`);
    }
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    if (e instanceof ImageReadError) throw e;
    throw new ImageReadError(`cannot decode image (${(e as Error).message.trim()}); ${EXPECTED}`);
  }
}

/** PNG signature, then IHDR: bit depth is byte 24. */
function isSixteenBitPng(buf: Uint8Array): boolean {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return buf.length > 24 && sig.every((b, i) => buf[i] === b) && buf[24] === 16;
}

/**
 * Frame resize to size × size with lanczos3. Non-square inputs are stretched ('fill'), since
 * cropping would cut sector content and letterboxing would add a border the model could learn.
 */
export async function resizeFrame(img: GrayImage, size: number): Promise<Uint8Array> {
  if (img.width === size && img.height === size) return img.data;
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } })
    .resize(size, size, { kernel: FRAME_RESIZE_KERNEL, fit: 'fill' })
    .toColourspace('b-w') // libvips would otherwise hand back sRGB (3 channels) from a 1-channel raw input
    .raw()
    .toBuffer();
  if (out.length !== size * size) throw new Error(`resizeFrame: got ${out.length} bytes for ${size}×${size} grey`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Mask resize to size × size, nearest neighbour with pixel centres aligned
 * (source index floor((dst + 0.5) · src / size)); input and output values are unchanged.
 */
export function resizeMaskNearest(img: GrayImage, size: number): Uint8Array {
  if (img.width === size && img.height === size) return img.data;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / size));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / size));
      out[y * size + x] = img.data[sy * img.width + sx]!;
    }
  }
  return out;
}

/**
 * Checks a mask holds only {0,1} or only {0,255} and returns it as 0/1. When it does not,
 * returns the distinct values found instead, so the caller can say what it saw.
 */
export function binariseMask(data: Uint8Array): { ok: true; mask: Uint8Array } | { ok: false; found: number[] } {
  const seen = new Uint8Array(256);
  for (let i = 0; i < data.length; i++) seen[data[i]!] = 1;
  const values: number[] = [];
  for (let v = 0; v < 256; v++) if (seen[v]) values.push(v);
  const others = values.filter((v) => v !== 0);
  if (others.length > 1 || (others.length === 1 && others[0] !== 1 && others[0] !== 255)) {
    return { ok: false, found: values };
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return { ok: true, mask: out };
}
