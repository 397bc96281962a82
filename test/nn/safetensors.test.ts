import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  readSafetensorsSync,
  writeSafetensors,
  writeSafetensorsSync,
  SafetensorsError,
  type LoadedTensor,
  type TensorToWrite,
} from '../../src/nn/safetensors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/nn/atomic_write.js';
import type { ResNet18Config } from '../../src/nn/state_dict_names.js';
import { uniform } from '../helpers/random.js';
import { randomResNet18 } from './nn_test_utils.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/safetensors');

const dec = new TextDecoder();
const enc = new TextEncoder();

function headerText(bytes: Uint8Array): { n: number; text: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, text: dec.decode(bytes.subarray(8, 8 + n)) };
}

/** Build a (possibly malformed) file: 8-byte length, header text (padded to 8 unless told), data. */
function rawFile(header: string | object, data: Uint8Array | number = 0, opts: { pad?: boolean; n?: bigint } = {}): Uint8Array {
  let h = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (opts.pad !== false && h.length % 8) {
    const p = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    p.set(h);
    h = p;
  }
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function f32Bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wgml-safetensors-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('safetensors encoding matches the reference serializer byte for byte', () => {
  // Expected bytes below are those of huggingface/safetensors' own unit tests (tensor.rs).
  it('one F32 tensor whose header needs no padding (N = 64)', () => {
    const out = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    const { n, text } = headerText(out);
    expect(n).toBe(64);
    expect(text).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(Array.from(out.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 128, 63]);
    expect(out.length).toBe(8 + 64 + 24);
  });

  it('pads the header with spaces to a multiple of 8 (N = 72, 7 spaces)', () => {
    const out = encodeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    const { n, text } = headerText(out);
    expect(n).toBe(72);
    expect(text).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect((8 + n) % 8).toBe(0);
  });

  it('empty file, with and without metadata', () => {
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const m = encodeSafetensors({}, { framework: 'pt' });
    expect(headerText(m)).toEqual({ n: 40, text: '{"__metadata__":{"framework":"pt"}}     ' });
    expect(m.length).toBe(48);
    expect(decodeSafetensors(m).metadata).toEqual({ framework: 'pt' });
    expect(decodeSafetensors(encodeSafetensors({})).metadata).toBeUndefined();
  });

  it('orders tensors by descending dtype alignment (I64, F32, I32), then by UTF-8 bytes of the name', () => {
    const out = encodeSafetensors({
      b: { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
      i: { dtype: 'I32', shape: [1], data: Int32Array.of(1) },
      A: { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
      'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(3n) },
      '\u{1F600}': { dtype: 'F32', shape: [1], data: Float32Array.of(1) }, // UTF-8 F0.. sorts after U+FFFD (EF..)
      '\uFFFD': { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
      a: { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
    });
    const keys = Object.keys(JSON.parse(headerText(out).text));
    expect(keys).toEqual(['bn1.num_batches_tracked', 'A', 'a', 'b', '\uFFFD', '\u{1F600}', 'i']);
    expect(decodeSafetensors(out).names).toEqual(keys);
  });

  it('writes metadata first with sorted keys, integer-like keys included, and escapes like serde_json', () => {
    const out = encodeSafetensors({ x: { dtype: 'F32', shape: [0], data: new Float32Array(0) } }, { b: '2', '10': 'ten', a: 'q"\\\n\u0001é' });
    const { text } = headerText(out);
    expect(text.trimEnd()).toBe('{"__metadata__":{"10":"ten","a":"q\\"\\\\\\n\\u0001é","b":"2"},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}');
  });
});

describe('safetensors round trip', () => {
  const tensors: Record<string, TensorToWrite> = {
    'conv1.weight': { dtype: 'F32', shape: [4, 3, 3, 3], data: uniform(108, 1) },
    'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(9007199254740993n) },
    'fc.bias': { dtype: 'F32', shape: [5], data: Float32Array.of(-0, Infinity, -Infinity, NaN, 1e-45) },
    labels: { dtype: 'I32', shape: [2, 2], data: Int32Array.of(-2147483648, 0, 7, 2147483647) },
    empty: { dtype: 'F32', shape: [3, 0], data: new Float32Array(0) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.of(2.5) },
  };
  const metadata = { format: 'pt', 'wgml.config': JSON.stringify({ stem: 'cifar', width: 64 }) };

  function expectSame(got: Record<string, LoadedTensor>, want: Record<string, TensorToWrite>): void {
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, w] of Object.entries(want)) {
      const g = got[k]!;
      expect(g.dtype, k).toBe(w.dtype);
      expect(g.sourceDtype, k).toBe(w.dtype);
      expect(g.shape, k).toEqual(w.shape);
      expect(Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)), k).toBe(true);
    }
  }

  it('encode → decode gives identical values (bitwise: -0, ±Inf, NaN, denormals, int64 > 2^53) and metadata', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const back = decodeSafetensors(bytes);
    expectSame(back.tensors, tensors);
    expect(back.metadata).toEqual(metadata);
    // and re-encoding what was read reproduces the same bytes
    expect(Buffer.from(encodeSafetensors(back.tensors, back.metadata)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('decoded tensors do not alias the input buffer', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
    const back = decodeSafetensors(bytes);
    bytes.fill(0xff, bytes.length - 8);
    expect(Array.from(back.tensors.a!.data as Float32Array)).toEqual([1, 2]);
  });

  it('accepts typed arrays that are views into larger buffers', () => {
    const big = uniform(20, 3);
    const view = big.subarray(5, 11);
    const back = decodeSafetensors(encodeSafetensors({ v: { dtype: 'F32', shape: [2, 3], data: view } }));
    expect(f32Bits(back.tensors.v!.data as Float32Array)).toEqual(f32Bits(view));
  });

  it('writeSafetensors / readSafetensors / readSafetensorsHeader on disk, atomic, no temp files left', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'rt-'));
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, 'old contents');
    await writeSafetensors(file, tensors, metadata);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    const back = await readSafetensors(file);
    expectSame(back.tensors, tensors);
    expect(back.metadata).toEqual(metadata);
    expect(fs.readFileSync(file).equals(Buffer.from(encodeSafetensors(tensors, metadata)))).toBe(true);

    const header = await readSafetensorsHeader(file);
    expect(header.entries.map((e) => e.name)).toEqual(back.names);
    expect(header.entries.find((e) => e.name === 'conv1.weight')).toMatchObject({ dtype: 'F32', shape: [4, 3, 3, 3] });
    expect(header.metadata).toEqual(metadata);
    expect(header.dataStart % 8).toBe(0);

    const file2 = path.join(dir, 'sync.safetensors');
    writeSafetensorsSync(file2, tensors);
    expectSame(readSafetensorsSync(file2).tensors, tensors);
    expect(readSafetensorsSync(file2).metadata).toBeUndefined();
    expect(fs.readdirSync(dir).sort()).toEqual(['model.safetensors', 'sync.safetensors']);
  });

  it('writeFileAtomic replaces the target only when complete and cleans up after a failure', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const file = path.join(dir, 'f.bin');
    await writeFileAtomic(file, Uint8Array.of(1, 2, 3));
    writeFileAtomicSync(file, Uint8Array.of(4, 5));
    expect(Array.from(fs.readFileSync(file))).toEqual([4, 5]);
    // Target is a directory: rename fails, the temp file must not be left behind.
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'x'), 'x');
    await expect(writeFileAtomic(path.join(dir, 'sub'), Uint8Array.of(1))).rejects.toThrow();
    expect(() => writeFileAtomicSync(path.join(dir, 'sub'), Uint8Array.of(1))).toThrow();
    expect(fs.readdirSync(dir).sort()).toEqual(['f.bin', 'sub']);
    // Missing parent directory: plain ENOENT.
    await expect(writeFileAtomic(path.join(dir, 'nope', 'f.bin'), Uint8Array.of(1))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to write what the format cannot hold, naming the tensor', () => {
    const bad = (t: Record<string, unknown>, m?: Record<string, unknown>) => () =>
      encodeSafetensors(t as Record<string, TensorToWrite>, m as Record<string, string>);
    expect(bad({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor "w": shape \[2,2\] has 4 elements but data has 3/);
    expect(bad({ w: { dtype: 'I64', shape: [1], data: new Float32Array(1) } })).toThrow(/tensor "w": dtype I64 needs a BigInt64Array, got Float32Array/);
    expect(bad({ w: { dtype: 'F16', shape: [1], data: new Uint16Array(1) } })).toThrow(/tensor "w": cannot write dtype F16/);
    expect(bad({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } })).toThrow(/tensor "w": shape \[-1\]/);
    expect(bad({ __metadata__: { dtype: 'F32', shape: [0], data: new Float32Array(0) } })).toThrow(/reserved/);
    expect(bad({ '\uD800': { dtype: 'F32', shape: [0], data: new Float32Array(0) } })).toThrow(/lone surrogate/);
    expect(bad({}, { epoch: 3 })).toThrow(/metadata value for "epoch" is a number/);
  });
});

describe('safetensors fixtures written by PyTorch (scripts/torch/write_fixture.py)', () => {
  interface Expected {
    metadata: Record<string, string>;
    tensors: Record<string, { sourceDtype: string; shape: number[]; f32_bits?: number[]; values?: string[] }>;
  }
  const load = (name: string) => ({
    file: path.join(FIXTURES, `${name}.safetensors`),
    expected: JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.expected.json`), 'utf8')) as Expected,
  });

  it('reads F32, F64, F16, BF16, I64, I32, 0-dim and empty tensors exactly as torch .float() gives them', async () => {
    const { file, expected } = load('torch_mixed');
    const got = await readSafetensors(file);
    expect(got.metadata).toEqual(expected.metadata);
    expect(Object.keys(got.tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    const seen = new Set<string>();
    for (const [name, e] of Object.entries(expected.tensors)) {
      const t = got.tensors[name]!;
      seen.add(e.sourceDtype);
      expect(t.sourceDtype, name).toBe(e.sourceDtype);
      expect(t.shape, name).toEqual(e.shape);
      if (e.values) {
        expect([...(t.data as Iterable<bigint | number>)].map(String), name).toEqual(e.values);
      } else {
        expect(t.dtype, name).toBe('F32');
        const bits = f32Bits(t.data as Float32Array);
        // NaN payloads may differ; every other value must match bit for bit.
        const norm = (b: number) => ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? 'NaN' : b);
        expect(bits.map(norm), name).toEqual(e.f32_bits!.map(norm));
      }
    }
    expect([...seen].sort()).toEqual(['BF16', 'F16', 'F32', 'F64', 'I32', 'I64']);
  });

  it('re-encodes a torch-written file byte for byte (same ordering, JSON and padding rules)', () => {
    const file = path.join(FIXTURES, 'torch_plain.safetensors');
    const original = fs.readFileSync(file);
    const got = readSafetensorsSync(file);
    expect(Buffer.from(encodeSafetensors(got.tensors, got.metadata)).equals(original)).toBe(true);
  });
});

describe('safetensors rejects malformed files with errors naming the file and tensor', () => {
  const f32 = (name: string, shape: number[], offsets: [number, number], dtype = 'F32') => ({ [name]: { dtype, shape, data_offsets: offsets } });
  const dv = (bytes: Uint8Array) => () => decodeSafetensors(bytes, { source: 'bad.safetensors' });

  it('file shorter than the 8-byte length prefix', () => {
    expect(dv(new Uint8Array(5))).toThrow(/^bad\.safetensors: truncated file: 5 bytes/);
    expect(dv(new Uint8Array(0))).toThrow(SafetensorsError);
  });

  it('header length beyond the file size, or absurdly large', () => {
    const ok = encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    expect(dv(ok.subarray(0, 20))).toThrow(/header length 56 runs past the end of the file \(20 bytes; truncated\?\)/);
    expect(dv(rawFile('{}', 0, { n: 1n << 40n }))).toThrow(/header length 1099511627776 is larger than the 100000000-byte limit/);
    expect(dv(rawFile('{}', 0, { n: 0xffffffffffffffffn }))).toThrow(/larger than/);
  });

  it('invalid UTF-8, invalid JSON, non-object header', () => {
    const badUtf8 = rawFile('{}');
    badUtf8[9] = 0xc3; // '}' → a truncated 2-byte sequence
    expect(dv(badUtf8)).toThrow(/not valid UTF-8/);
    expect(dv(rawFile('{"a":'))).toThrow(/bad\.safetensors: header is not valid JSON/);
    expect(dv(rawFile('[1,2]'))).toThrow(/header JSON is not an object/);
  });

  it('unknown and unsupported dtypes', () => {
    expect(dv(rawFile(f32('w', [1], [0, 4], 'F33'), 4))).toThrow(/tensor "w": unknown dtype "F33"/);
    expect(dv(rawFile(f32('w', [4], [0, 4], 'U8'), 4))).toThrow(/tensor "w": unsupported dtype U8 \(wgml reads F32, F64, F16, BF16, I64, I32\)/);
  });

  it('malformed shape or data_offsets fields', () => {
    expect(dv(rawFile(f32('w', [1.5], [0, 4]), 4))).toThrow(/tensor "w": shape \[1\.5\]/);
    expect(dv(rawFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, 4))).toThrow(/tensor "w": missing or non-array "shape"/);
    expect(dv(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4))).toThrow(/tensor "w": "data_offsets" must be \[begin, end\]/);
    expect(dv(rawFile(f32('w', [1], [-4, 0]), 4))).toThrow(/tensor "w": "data_offsets" \[-4,0\] are not non-negative integers/);
    expect(dv(rawFile({ w: [1, 2] }, 0))).toThrow(/tensor "w": header entry is not an object/);
  });

  it('byte length ≠ product(shape) · itemsize', () => {
    expect(dv(rawFile(f32('w', [2, 3], [0, 20]), 20))).toThrow(/tensor "w": data_offsets \[0,20\] span 20 bytes, but shape \[2,3\] of F32 \(4 bytes each\) needs 24/);
    expect(dv(rawFile(f32('n', [], [0, 4], 'I64'), 4))).toThrow(/tensor "n": .* shape \[\] of I64 \(8 bytes each\) needs 8/);
  });

  it('offsets out of range (truncated data), end before begin', () => {
    const ok = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(dv(ok.subarray(0, ok.length - 1))).toThrow(/tensor "a": data_offsets \[0,16\] run past the end of the data section \(15 bytes; file truncated\?\)/);
    expect(dv(rawFile(f32('w', [0], [8, 4]), 8))).toThrow(/tensor "w": data_offsets \[8,4\]: end is before begin/);
  });

  it('overlapping tensors and gaps between tensors', () => {
    const overlap = rawFile({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }, 12);
    expect(dv(overlap)).toThrow(/tensor "b": data_offsets \[4,12\] overlap tensor "a" at \[0,8\]/);
    const gap = rawFile({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [8, 12]) }, 12);
    expect(dv(gap)).toThrow(/tensor "b": data_offsets \[8,12\] leave a gap of 4 bytes after tensor "a"/);
    const lead = rawFile(f32('a', [1], [4, 8]), 8);
    expect(dv(lead)).toThrow(/tensor "a": .* gap of 4 bytes after the header/);
  });

  it('trailing bytes after the last tensor', () => {
    expect(dv(rawFile(f32('a', [1], [0, 4]), 12))).toThrow(/^bad\.safetensors: 8 trailing bytes after the last tensor/);
    expect(dv(rawFile({}, 8))).toThrow(/8 trailing bytes/);
  });

  it('misaligned data: read correctly by default (like the reference), refused with requireAligned', () => {
    // An F32 tensor at data offset 2 (after a 2-byte F16) and an unpadded header: not aligned to 4.
    const data = new Uint8Array(6);
    data.set([0x00, 0x3c], 0); // f16 1.0
    new DataView(data.buffer).setFloat32(2, -7.5, true);
    const bytes = rawFile({ ...f32('h', [1], [0, 2], 'F16'), ...f32('w', [1], [2, 6]) }, data, { pad: false });
    const got = decodeSafetensors(bytes);
    expect(Array.from(got.tensors.w!.data as Float32Array)).toEqual([-7.5]);
    expect(Array.from(got.tensors.h!.data as Float32Array)).toEqual([1]);
    expect(() => decodeSafetensors(bytes, { source: 'bad.safetensors', requireAligned: true })).toThrow(
      /bad\.safetensors: tensor "(h|w)": misaligned: file offset \d+ is not a multiple of the F(16|32) element size/,
    );
  });

  it('__metadata__ must map strings to strings', () => {
    expect(dv(rawFile({ __metadata__: { epoch: 3 } }))).toThrow(/"__metadata__" value for "epoch" is 3, not a string/);
    expect(dv(rawFile({ __metadata__: ['x'] }))).toThrow(/"__metadata__" must be an object/);
  });

  it('errors from files name the path; readSafetensorsHeader validates without reading the data', async () => {
    const file = path.join(tmp, 'broken.safetensors');
    fs.writeFileSync(file, rawFile({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }, 12));
    await expect(readSafetensors(file)).rejects.toThrow(`${file}: tensor "b": data_offsets [4,12] overlap tensor "a"`);
    await expect(readSafetensorsHeader(file)).rejects.toThrow(`${file}: tensor "b"`);
    const short = path.join(tmp, 'short.safetensors');
    fs.writeFileSync(short, Uint8Array.of(1, 2, 3));
    await expect(readSafetensorsHeader(short)).rejects.toThrow(`${short}: truncated file: 3 bytes`);
    const cut = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(cut, encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } }).subarray(0, 30));
    await expect(readSafetensorsHeader(cut)).rejects.toThrow(`${cut}: header length`);
    const e = await readSafetensors(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).tensor).toBe('b');
    expect((e as SafetensorsError).source).toBe(file);
  });

  it('a tensor named "__proto__" is an ordinary key', () => {
    const got = decodeSafetensors(rawFile('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)));
    expect(got.names).toEqual(['__proto__']);
    expect(Object.keys(got.tensors)).toEqual(['__proto__']);
  });
});

// ------------------------------------------------------------------------------------------------
// PyTorch reads what wgml writes — proven without torch, against files torch wrote for the same
// tensors (scripts/torch/golden_fixtures.py) and against the format's rules, byte by byte:
//   * for mixed dtypes, 0-dim, empty and int64 > 2^53 tensors with non-ASCII metadata, wgml writes
//     exactly the bytes torch's writer wrote (st_format.py, the reference serializer's rules);
//     when generating the fixture torch's strict parser read those bytes back into the values
//     and metadata recorded in .expected.json, and those are the values wgml meant to write;
//   * wgml's layout passes the same rule checks as the strict parser's report (space padding to a
//     multiple of 8, metadata first, reference tensor order, contiguous offsets) — recomputed
//     here on wgml's bytes;
//   * a wgml width-64 ResNet18 checkpoint (cifar 1 ch 4 classes; imagenet 3 ch 1000 classes,
//     torchvision's own) has, byte for byte, the header — names, dtypes, shapes, offsets, order,
//     padding — and the size of the file torch writes for that model's state dict, which torch
//     loaded back with load_state_dict(strict=True) when generating it; its names and shapes are
//     also those real torchvision produced (test/fixtures/torchvision).
// Not proven here: that the torch (or `safetensors` package) of the machine running the tests
// accepts the files, and a strict load of wgml's own checkpoint file by torch — that is what
// test/torch/safetensors_interop.torch.test.ts checks (`npm run test:torch`, CI).

/** k_i = (i·2654435761) mod 2^24 − 2^23, value k_i / 2^22: exact in f32, full mantissas (golden_fixtures.formula_f32). */
function formulaF32(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 2654435761) % 2 ** 24) - 2 ** 23) / 2 ** 22);
}

// The reference's Dtype enum order (ascending alignment); tensors are written in descending order.
const DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/** The strict parser's format report (scripts/torch/st_format.py `decode`), computed on `bytes`. */
function formatReport(bytes: Uint8Array) {
  const { n, text } = headerText(bytes);
  const entries = Object.entries(JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>);
  const tensors = entries.filter(([k]) => k !== '__metadata__');
  const utf8Cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const canonical = [...tensors].sort(([a, x], [b, y]) => DTYPE_ORDER.indexOf(y.dtype) - DTYPE_ORDER.indexOf(x.dtype) || utf8Cmp(a, b)).map(([k]) => k);
  let pos = 0;
  const contiguous = tensors.every(([, t]) => {
    const ok = t.data_offsets[0] === pos;
    pos = t.data_offsets[1];
    return ok;
  }) && 8 + n + pos === bytes.length;
  return {
    header_length: n,
    header_padding: / +$/.test(text) ? 'spaces' : 'none',
    header_length_multiple_of_8: n % 8 === 0,
    metadata_first: entries.length > 0 && (entries[0]![0] === '__metadata__' || !entries.some(([k]) => k === '__metadata__')),
    canonical_order: contiguous && canonical.join('\0') === tensors.map(([k]) => k).join('\0'),
    header_order: tensors.map(([k]) => k),
  };
}

describe('PyTorch reads what wgml writes: wgml\'s bytes are those torch wrote for the same tensors (golden fixtures, no torch needed)', () => {
  it('mixed dtypes, 0-dim/empty tensors and metadata: byte for byte torch\'s file, whose read-back values are wgml\'s', () => {
    const tensors: Record<string, TensorToWrite> = {
      'conv1.weight': { dtype: 'F32', shape: [3, 2, 3, 3], data: formulaF32(54) },
      'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(-9007199254740993n) },
      ids: { dtype: 'I32', shape: [3], data: Int32Array.of(-5, 0, 2147483647) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      Zed: { dtype: 'F32', shape: [], data: Float32Array.of(-0.125) },
    };
    const metadata = { format: 'pt', note: 'é ✓ "q"\n' };
    const bytes = encodeSafetensors(tensors, metadata);
    const torchFile = fs.readFileSync(path.join(FIXTURES, 'torch_interop_mixed.safetensors'));
    const want = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'torch_interop_mixed.expected.json'), 'utf8')) as {
      metadata: Record<string, string>;
      format: ReturnType<typeof formatReport>;
      file_size: number;
      tensors: Record<string, { sourceDtype: string; shape: number[]; f32_bits?: number[]; values?: string[] }>;
    };
    expect(formatReport(bytes)).toEqual(want.format);
    expect(want.format).toMatchObject({ header_padding: 'spaces', header_length_multiple_of_8: true, metadata_first: true, canonical_order: true });
    expect(bytes.length).toBe(want.file_size);
    expect(Buffer.from(bytes).equals(torchFile), 'wgml\'s file = the file torch wrote').toBe(true);
    // What torch read back from those bytes is what wgml meant to write.
    expect(want.metadata).toEqual(metadata);
    expect(Object.keys(want.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors)) {
      const w = want.tensors[k]!;
      expect(w.sourceDtype, k).toBe(t.dtype);
      expect(w.shape, k).toEqual(t.shape);
      if (t.dtype === 'F32') expect(w.f32_bits, k).toEqual(f32Bits(t.data));
      else expect(w.values, k).toEqual([...(t.data as Iterable<bigint | number>)].map(String));
    }
  });

  const headers: Array<{ config: ResNet18Config; file: string; torchvision: string }> = [
    { config: { stem: 'cifar', inChannels: 1, numClasses: 4 }, file: 'torch_resnet18_cifar_1_4.header.json', torchvision: 'resnet18_cifar_1_4.json' },
    { config: { stem: 'imagenet', inChannels: 3, numClasses: 1000 }, file: 'torch_resnet18_imagenet_3_1000.header.json', torchvision: 'resnet18_imagenet_3_1000.json' },
  ];
  for (const { config, file, torchvision } of headers) {
    it(`a wgml ResNet18 checkpoint (${config.stem}, ${config.inChannels} ch, ${config.numClasses} classes) has the header and size of the state dict torch writes`, () => {
      const want = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { header_length: number; header: string; file_size: number };
      const bytes = encodeSafetensors(randomResNet18(config, 100), { format: 'pt' });
      const { n, text } = headerText(bytes);
      expect(n).toBe(want.header_length);
      expect(text).toBe(want.header);
      expect(bytes.length).toBe(want.file_size);
      // (padding is 'none' or 'spaces' as the length falls; both are the reference writer's)
      expect(formatReport(bytes)).toMatchObject({ header_length_multiple_of_8: true, metadata_first: true, canonical_order: true });
      // …and those names, shapes and dtypes are real torchvision's (its key list, written with torchvision installed).
      const tv = JSON.parse(fs.readFileSync(path.join(FIXTURES, '../torchvision', torchvision), 'utf8')) as { entries: Array<{ name: string; shape: number[]; dtype: string }> };
      const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[] }>;
      const fromHeader = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([name, e]) => ({ name, shape: e.shape, dtype: e.dtype }));
      const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
      expect(fromHeader.sort(byName)).toEqual(tv.entries.map(({ name, shape, dtype }) => ({ name, shape, dtype })).sort(byName));
    });
  }
});
