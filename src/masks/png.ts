// A minimal PNG writer for masks (8-bit greyscale, filter 0, zlib deflate) and reader for
// 8-bit greyscale frames. Writing 15,000
// masks through sharp cost about a millisecond each in pipeline set-up; a mask's PNG needs
// nothing but its scanlines deflated, which zlib does on libuv's thread pool (the `deflate`
// callback form), so encoding overlaps the fitting on the main thread. The bytes depend only
// on the pixels (fixed zlib level), so equal masks give equal files.

import { crc32, deflate, inflate } from 'node:zlib';
import { promisify } from 'node:util';

const deflateAsync = promisify(deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** data: [height, width] u8 grey → PNG bytes (colour type 0, bit depth 8, no interlace). */
export async function encodeGrayPng(data: Uint8Array, width: number, height: number): Promise<Buffer> {
  if (data.length !== width * height) throw new RangeError(`encodeGrayPng: ${data.length} bytes for ${width}×${height}`);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    // each scanline starts with its filter type, 0 (none): masks are two-valued, and zlib
    // compresses their runs well without prediction
    raw.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  // compression 0, filter 0, interlace 0: bytes 10–12 stay zero
  const idat = await deflateAsync(raw, { level: 6 });
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

const inflateAsync = promisify(inflate);

/**
 * Decodes an 8-bit greyscale, non-interlaced PNG (what `wgml synth` writes, and the common form
 * of echo frames) without sharp: its per-file pipeline set-up was most of the read cost at
 * 15,000 small frames. Returns null for anything else (colour, other depths, interlacing,
 * .npy, a damaged file), and the caller falls back to `readGray`, which reads every format
 * and words the errors.
 */
export async function decodeGrayPng(buf: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array } | null> {
  if (buf.length < 33 || !SIGNATURE.equals(Buffer.from(buf.buffer, buf.byteOffset, 8))) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  let width = 0, height = 0;
  const idat: Uint8Array[] = [];
  while (off + 8 <= buf.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(buf[off + 4]!, buf[off + 5]!, buf[off + 6]!, buf[off + 7]!);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (body.length !== len) return null;
    if (type === 'IHDR') {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      // bit depth 8, colour type 0, compression 0, filter 0, interlace 0
      if (body[8] !== 8 || body[9] !== 0 || body[10] !== 0 || body[11] !== 0 || body[12] !== 0) return null;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (width === 0 || height === 0 || idat.length === 0) return null;
  let raw: Buffer;
  try {
    raw = await inflateAsync(Buffer.concat(idat));
  } catch {
    return null;
  }
  const stride = width + 1;
  if (raw.length < stride * height) return null;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * stride]!;
    const src = y * stride + 1;
    const dst = y * width;
    const up = dst - width;
    for (let x = 0; x < width; x++) {
      const v = raw[src + x]!;
      const a = x > 0 ? data[dst + x - 1]! : 0;
      const b = y > 0 ? data[up + x]! : 0;
      let p: number;
      if (f === 0) p = 0;
      else if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) {
        const c = x > 0 && y > 0 ? data[up + x - 1]! : 0;
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else return null;
      data[dst + x] = (v + p) & 0xff;
    }
  }
  return { width, height, data };
}
