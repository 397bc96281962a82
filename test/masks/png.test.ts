// The mask PNG writer and the grey PNG reader the mask fitter uses, against sharp (libvips),
// which reads and writes every PNG the rest of wgml handles.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeGrayPng, encodeGrayPng } from '../../src/masks/png.js';
import { rng } from '../helpers/random.js';

function noise(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: w * h }, (_, i) => ((i % w) * 3 + Math.floor(r() * 40)) & 0xff);
}

describe('mask PNG codec', () => {
  it('what encodeGrayPng writes is a 1-channel 8-bit PNG that sharp decodes to the same pixels', async () => {
    const w = 37, h = 23;
    const px = noise(w, h, 1);
    const png = await encodeGrayPng(px, w, h);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([w, h, 1, 'uchar']);
    // 'b-w' keeps the raw output one channel (sharp would hand back sRGB otherwise)
    const data = await sharp(png).toColourspace('b-w').raw().toBuffer();
    expect(Uint8Array.from(data)).toEqual(px);
  });

  it('decodeGrayPng reads sharp’s grey PNGs under every filter (adaptive filtering), and returns null for colour, 16-bit and non-PNG input', async () => {
    const w = 41, h = 29;
    const px = noise(w, h, 2);
    const grey = await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png({ adaptiveFiltering: true }).toBuffer();
    const d = await decodeGrayPng(grey);
    expect(d && [d.width, d.height]).toEqual([w, h]);
    expect(d!.data).toEqual(px);
    const rgb = await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
    expect(await decodeGrayPng(rgb)).toBeNull();
    const deep = await sharp(Buffer.from(new Uint16Array(w * h).buffer), { raw: { width: w, height: h, channels: 1 } } as never).toColourspace('grey16').png().toBuffer();
    expect(await decodeGrayPng(deep)).toBeNull();
    expect(await decodeGrayPng(new TextEncoder().encode('not a png at all, but long enough to look'))).toBeNull();
  });
});
