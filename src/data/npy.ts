// NumPy .npy files, read by hand: the BackMix reference stores every frame and mask as one.
// Format: magic "\x93NUMPY", major, minor, header length (u16 LE in v1, u32 LE in v2/v3),
// then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} padded with
// spaces and a newline, then the raw array data.

export type NpyDtype = '|u1' | '|b1' | '<f4' | '<f8';

/** A 2-D array as stored: data: [rows, cols] in C order, converted to u8 (see parseNpy). */
export interface NpyImage {
  rows: number;
  cols: number;
  dtype: NpyDtype;
  data: Uint8Array;
}

/** Thrown for anything this reader does not accept; the message says what was expected. */
export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

function parseHeader(buf: Uint8Array): NpyHeader {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new NpyFormatError('not a .npy file: expected the magic bytes \\x93NUMPY at the start');
  }
  const major = buf[6]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyFormatError('truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyFormatError(`.npy format version ${major} is not supported; expected version 1, 2 or 3`);
  }
  if (start + headerLen > buf.length) throw new NpyFormatError('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(`malformed .npy header ${JSON.stringify(header.trim())}; expected descr, fortran_order and shape`);
  }
  const shape = shapeText
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((t) => {
      const v = Number(t.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new NpyFormatError(`malformed .npy shape (${shapeText})`);
      return v;
    });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen };
}

const ITEM_SIZE: Record<NpyDtype, number> = { '|u1': 1, '|b1': 1, '<f4': 4, '<f8': 8 };

function normaliseDescr(descr: string): NpyDtype | null {
  // NumPy writes uint8 as '|u1'; '<u1' and '=u1' mean the same for one byte.
  if (descr === '|u1' || descr === '<u1' || descr === '=u1') return '|u1';
  if (descr === '|b1') return '|b1';
  if (descr === '<f4') return '<f4';
  if (descr === '<f8') return '<f8';
  return null;
}

/**
 * Parses a 2-D .npy image into u8. Accepted dtypes: |u1 and |b1 as is; <f4 and <f8 are taken
 * to hold 0..255 grey levels, so they are clipped to [0,255] and rounded (NaN is an error,
 * since it would silently become a pixel value). Big-endian data, Fortran order and anything
 * other than 2-D are errors.
 */
export function parseNpy(buf: Uint8Array): NpyImage {
  const h = parseHeader(buf);
  const dtype = normaliseDescr(h.descr);
  if (!dtype) {
    throw new NpyFormatError(`dtype '${h.descr}' is not supported; expected one of |u1, |b1, <f4, <f8 (little endian)`);
  }
  if (h.fortranOrder) throw new NpyFormatError('Fortran-order array; expected C order (fortran_order: False)');
  if (h.shape.length !== 2) {
    throw new NpyFormatError(`array of shape (${h.shape.join(', ')}); expected a 2-D image (rows, cols)`);
  }
  const [rows, cols] = h.shape as [number, number];
  const count = rows * cols;
  const need = count * ITEM_SIZE[dtype];
  const have = buf.length - h.dataOffset;
  if (have < need) {
    throw new NpyFormatError(`truncated .npy data: ${have} bytes after the header, expected ${need} for shape (${rows}, ${cols}) ${dtype}`);
  }
  const data = new Uint8Array(count);
  if (dtype === '|u1' || dtype === '|b1') {
    data.set(buf.subarray(h.dataOffset, h.dataOffset + count));
  } else {
    // DataView, because the data offset need not be aligned for a Float32Array/Float64Array.
    const view = new DataView(buf.buffer, buf.byteOffset + h.dataOffset, need);
    const f64 = dtype === '<f8';
    for (let i = 0; i < count; i++) {
      const v = f64 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
      if (Number.isNaN(v)) {
        throw new NpyFormatError(`NaN at element ${i} (row ${Math.floor(i / cols)}, col ${i % cols}); expected grey levels 0..255`);
      }
      data[i] = Math.round(Math.min(255, Math.max(0, v)));
    }
  }
  return { rows, cols, dtype, data };
}

/**
 * Writes a 2-D array as a .npy file (version 1.0 by default, 2.0 on request), header padded
 * so the data starts on a 64-byte boundary as NumPy does. data: [rows, cols] C order; numbers
 * are stored as given (for |u1/|b1 they must already be integers in range).
 */
export function writeNpy(
  rows: number,
  cols: number,
  dtype: NpyDtype,
  data: ArrayLike<number>,
  version: 1 | 2 = 1,
): Uint8Array {
  if (data.length !== rows * cols) throw new RangeError(`writeNpy: ${data.length} values for shape (${rows}, ${cols})`);
  const prefix = version === 1 ? 10 : 12;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const unpadded = prefix + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  const size = ITEM_SIZE[dtype];
  const out = new Uint8Array(prefix + header.length + data.length * size);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const off = prefix + header.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (dtype === '<f4') view.setFloat32(off + i * 4, v, true);
    else if (dtype === '<f8') view.setFloat64(off + i * 8, v, true);
    else out[off + i] = v;
  }
  return out;
}
