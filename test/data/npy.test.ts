import { describe, expect, it } from 'vitest';
import { NpyFormatError, parseNpy, writeNpy } from '../../src/data/npy.js';

/** A hand-made .npy: v1 header with an arbitrary dict, then `data` bytes. */
function rawNpy(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  let header = dict;
  while ((prefix + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(data, prefix + header.length);
  return out;
}

describe('.npy parsing', () => {
  it('reads |u1 exactly, with v1 and v2 headers', () => {
    const data = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    for (const version of [1, 2] as const) {
      const a = parseNpy(writeNpy(3, 4, '|u1', data, version));
      expect(a).toMatchObject({ rows: 3, cols: 4, dtype: '|u1' });
      expect([...a.data]).toEqual([...data]);
    }
  });

  it('pads the header so data starts on a 64-byte boundary, as NumPy does', () => {
    const buf = writeNpy(2, 2, '<f4', [0, 1, 2, 3]);
    const dataStart = buf.length - 16;
    expect(dataStart % 64).toBe(0);
    expect(new DataView(buf.buffer).getUint16(8, true)).toBe(dataStart - 10);
    expect(new TextDecoder('latin1').decode(buf.subarray(10, dataStart))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/);
  });

  it('reads |b1 masks as 0/1', () => {
    const a = parseNpy(writeNpy(2, 3, '|b1', [0, 1, 1, 0, 0, 1]));
    expect([...a.data]).toEqual([0, 1, 1, 0, 0, 1]);
  });

  it('clips and rounds <f4 and <f8 grey levels', () => {
    const values = [-3, 0.4, 0.6, 127.5, 254.6, 300];
    for (const dtype of ['<f4', '<f8'] as const) {
      const a = parseNpy(writeNpy(2, 3, dtype, values));
      expect(a.dtype).toBe(dtype);
      expect([...a.data]).toEqual([0, 0, 1, 128, 255, 255]);
    }
  });

  it('reads float data that is not 4/8-byte aligned in its buffer', () => {
    const buf = writeNpy(1, 3, '<f8', [1, 2, 3]);
    const shifted = new Uint8Array(buf.length + 1);
    shifted.set(buf, 1);
    expect([...parseNpy(shifted.subarray(1)).data]).toEqual([1, 2, 3]);
  });

  it('rejects what it cannot read, saying what was expected', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('PK\x03\x04 not numpy at all'), /expected the magic bytes/],
      [rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", new Uint8Array(4)), /dtype '>f4' is not supported; expected one of/],
      [rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1), }", new Uint8Array(4)), /dtype '<i4'/],
      [rawNpy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(4)), /expected C order/],
      [rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 1), }", new Uint8Array(4)), /shape \(2, 2, 1\); expected a 2-D image/],
      [rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(4)), /expected a 2-D image/],
      [rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 3), }", new Uint8Array(5)), /truncated .npy data: 5 bytes .* expected 9/],
      [rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), }", new Uint8Array(1), 9), /version 9 is not supported/],
      [rawNpy("{'shape': (1, 1)}", new Uint8Array(1)), /malformed .npy header/],
    ];
    for (const [buf, message] of cases) {
      expect(() => parseNpy(buf)).toThrow(NpyFormatError);
      expect(() => parseNpy(buf)).toThrow(message);
    }
  });

  it('rejects NaN in float frames instead of inventing a pixel value', () => {
    expect(() => parseNpy(writeNpy(1, 3, '<f4', [1, NaN, 3]))).toThrow(/NaN at element 1 \(row 0, col 1\)/);
  });

  it('accepts a v3 (UTF-8) header', () => {
    const a = parseNpy(rawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }", Uint8Array.of(7, 9), 3));
    expect([...a.data]).toEqual([7, 9]);
  });
});
