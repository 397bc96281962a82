// safetensors reader/writer, written by hand from the format's rules (huggingface/safetensors):
//
//   [8 bytes]  N: u64 little-endian, the header's byte length
//   [N bytes]  UTF-8 JSON object: { "__metadata__"?: {string: string},
//                                   "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
//              The reference writer pads it with spaces (0x20) so that N is a multiple of 8, which
//              keeps every tensor's data aligned to its element size.
//   [rest]     the byte buffer; data_offsets are relative to its start. Tensors are contiguous,
//              row-major (C order), little-endian, with no gaps or overlaps, and the last tensor ends
//              exactly at the end of the file.
//
// Writing matches the reference serializer byte for byte: tensors sorted by dtype in descending
// alignment order (the order of the reference's `Dtype` enum, so I64 before F32 before I32), then by
// name (byte-wise on UTF-8); compact JSON with `__metadata__` first and fields in the order
// dtype, shape, data_offsets. The reference's metadata map is a hash map (unordered); we sort its
// keys so that our output is deterministic.
//
// Reading validates everything the reference validates (and says which file and tensor is wrong).
// F16, BF16 and F64 tensors are converted to F32 on read (wgml computes in f32); the original
// dtype is kept in `sourceDtype`. I64 stays BigInt64Array (torch's num_batches_tracked), I32 stays
// Int32Array. Other dtypes (U8, BOOL, F8, ...) are refused with a clear error.
import { endianness } from 'node:os';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { writeFileAtomic, writeFileAtomicSync } from './atomic_write.js';

/** dtypes of the safetensors format, in the reference's enum order = ascending alignment. */
const KNOWN_DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'I16', 'U16', 'F16', 'BF16',
  'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
] as const;
export type SafetensorsDtype = (typeof KNOWN_DTYPES)[number];

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** dtypes wgml can read (F16/BF16/F64 arrive as F32). */
export const READABLE_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F64', 'F16', 'BF16', 'I64', 'I32'];
/** dtypes wgml writes. */
export const WRITABLE_DTYPES = ['F32', 'I64', 'I32'] as const;

/** The reference rejects headers larger than this (100 MB); so do we. */
export const MAX_HEADER_SIZE = 100_000_000;

export function isSafetensorsDtype(s: string): s is SafetensorsDtype {
  return (KNOWN_DTYPES as readonly string[]).includes(s);
}

/** Bytes per element of a safetensors dtype. */
export function dtypeItemSize(dtype: SafetensorsDtype): number {
  return ITEM_SIZE[dtype];
}

/** A tensor to write. data is row-major (C order) with product(shape) elements. */
export type TensorToWrite =
  | { dtype: 'F32'; shape: readonly number[]; data: Float32Array }
  | { dtype: 'I64'; shape: readonly number[]; data: BigInt64Array }
  | { dtype: 'I32'; shape: readonly number[]; data: Int32Array };

/** A tensor as read. `sourceDtype` is the dtype stored in the file (F16/BF16/F64 become F32). */
export type LoadedTensor =
  | { dtype: 'F32'; shape: number[]; data: Float32Array; sourceDtype: 'F32' | 'F64' | 'F16' | 'BF16' }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array; sourceDtype: 'I64' }
  | { dtype: 'I32'; shape: number[]; data: Int32Array; sourceDtype: 'I32' };

/** One header entry, validated. `begin`/`end` are relative to the data section. */
export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header's byte length (including padding). */
  headerLength: number;
  /** Absolute file offset of the data section: 8 + N. */
  dataStart: number;
  /** Entries in data order (sorted by offset), which is the order they lie in the file. */
  entries: HeaderEntry[];
  metadata: Record<string, string> | undefined;
}

export interface SafetensorsContents {
  /** Null-prototype record, so a tensor named e.g. "__proto__" is just a key. */
  tensors: Record<string, LoadedTensor>;
  /** Tensor names in file order (a JS object reorders integer-like keys, this does not). */
  names: string[];
  metadata: Record<string, string> | undefined;
}

export interface DecodeOptions {
  /** Name used in error messages (the file path when reading a file). */
  source?: string;
  /**
   * Refuse tensors whose absolute file offset is not a multiple of their element size.
   * Off by default: the reference readers accept such files (they copy), and so do we (we always
   * copy into a fresh aligned buffer). Files from the reference writer and from wgml are aligned.
   */
  requireAligned?: boolean;
}

/** A malformed or unsupported safetensors file. The message names the file and, where known, the tensor. */
export class SafetensorsError extends Error {
  constructor(
    readonly source: string,
    detail: string,
    readonly tensor?: string,
  ) {
    super(`${source}: ${tensor !== undefined ? `tensor ${JSON.stringify(tensor)}: ` : ''}${detail}`);
    this.name = 'SafetensorsError';
  }
}

const HOST_LE = endianness() === 'LE';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextEncoder();

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Byte-wise comparison of UTF-8 encodings, i.e. Rust's `str::cmp` (JS `<` compares UTF-16 units). */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** product(shape) with checks; throws via `fail` on negative, fractional or overflowing dims. */
function elementCount(shape: readonly number[], fail: (msg: string) => never): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    n *= d;
    if (!Number.isSafeInteger(n)) fail(`shape ${fmtShape(shape)} has too many elements`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Writing

const TYPED_CTOR = { F32: Float32Array, I64: BigInt64Array, I32: Int32Array } as const;

/** Compact JSON object with keys in the given order (JSON.stringify would hoist integer-like keys). */
function jsonObject(pairs: Array<[string, string]>): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

function copyLittleEndian(t: TensorToWrite, out: Uint8Array, offset: number): void {
  const data = t.data;
  if (HOST_LE) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const dv = new DataView(out.buffer, out.byteOffset + offset, data.byteLength);
  if (t.dtype === 'F32') t.data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else if (t.dtype === 'I32') t.data.forEach((v, i) => dv.setInt32(i * 4, v, true));
  else t.data.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
}

/**
 * Serialize tensors (and optional string→string metadata) into safetensors bytes, byte-identical
 * to what the reference serializer produces for the same input (metadata keys sorted).
 */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const fail = (msg: string, name?: string): never => {
    throw new SafetensorsError('encodeSafetensors', msg, name);
  };
  const entries = Object.keys(tensors).map((name) => {
    const t = tensors[name]!;
    if (name === '__metadata__') fail('"__metadata__" is reserved for the metadata map', name);
    if (LONE_SURROGATE.test(name)) fail('name is not valid Unicode (lone surrogate)', name);
    if (!(WRITABLE_DTYPES as readonly string[]).includes(t.dtype)) {
      fail(`cannot write dtype ${String(t.dtype)} (wgml writes ${WRITABLE_DTYPES.join(', ')})`, name);
    }
    const ctor = TYPED_CTOR[t.dtype];
    if (!(t.data instanceof ctor)) fail(`dtype ${t.dtype} needs a ${ctor.name}, got ${t.data?.constructor?.name}`, name);
    const n = elementCount(t.shape, (m) => fail(m, name));
    if (n !== t.data.length) fail(`shape ${fmtShape(t.shape)} has ${n} elements but data has ${t.data.length}`, name);
    return { name, t, nbytes: t.data.byteLength };
  });
  // Descending alignment (reference enum order), then name.
  const rank = (d: SafetensorsDtype): number => KNOWN_DTYPES.indexOf(d);
  entries.sort((a, b) => rank(b.t.dtype) - rank(a.t.dtype) || compareUtf8(a.name, b.name));

  const pairs: Array<[string, string]> = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string') fail(`metadata value for ${JSON.stringify(k)} is a ${typeof v}; safetensors metadata maps strings to strings`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) fail(`metadata entry ${JSON.stringify(k)} is not valid Unicode (lone surrogate)`);
    }
    pairs.push(['__metadata__', jsonObject(keys.map((k) => [k, JSON.stringify(metadata[k])]))]);
  }
  let offset = 0;
  for (const e of entries) {
    const info = `{"dtype":"${e.t.dtype}","shape":[${e.t.shape.join(',')}],"data_offsets":[${offset},${offset + e.nbytes}]}`;
    pairs.push([e.name, info]);
    offset += e.nbytes;
  }
  const json = utf8.encode(jsonObject(pairs));
  const headerLength = Math.ceil(json.length / 8) * 8; // pad with spaces to a multiple of 8
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const e of entries) {
    copyLittleEndian(e.t, out, pos);
    pos += e.nbytes;
  }
  return out;
}

/** Write a safetensors file atomically (temp file in the same directory, fsync, rename). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Synchronous twin of {@link writeSafetensors}. */
export function writeSafetensorsSync(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Parse and validate the header. `prefix` holds at least the first 8 + N bytes of the file
 * (or all of it); `fileSize` is the whole file's size, so offsets are checked against the real
 * data section even when only the header was read.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileSize: number, opts: DecodeOptions = {}): SafetensorsHeader {
  const source = opts.source ?? '<buffer>';
  const fail = (msg: string, tensor?: string): never => {
    throw new SafetensorsError(source, msg, tensor);
  };
  if (fileSize < 8) fail(`truncated file: ${fileSize} bytes, but a safetensors file starts with an 8-byte header length`);
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`header length ${n64} is larger than the ${MAX_HEADER_SIZE}-byte limit (not a safetensors file?)`);
  const headerLength = Number(n64);
  const dataStart = 8 + headerLength;
  if (dataStart > fileSize) fail(`header length ${headerLength} runs past the end of the file (${fileSize} bytes; truncated?)`);
  if (prefix.length < dataStart) fail(`internal: header prefix of ${prefix.length} bytes is shorter than 8 + ${headerLength}`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(prefix.subarray(8, dataStart));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('header JSON is not an object');
  const header = parsed as Record<string, unknown>;

  let metadata: Record<string, string> | undefined;
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (value === null) continue; // the reference's Option<..> accepts null
      if (typeof value !== 'object' || Array.isArray(value)) fail('"__metadata__" must be an object mapping strings to strings');
      metadata = Object.create(null) as Record<string, string>;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__" value for ${JSON.stringify(k)} is ${JSON.stringify(v)}, not a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('header entry is not an object with dtype, shape, data_offsets', name);
    const info = value as Record<string, unknown>;
    const dtype = info.dtype;
    if (typeof dtype !== 'string') fail('missing or non-string "dtype"', name);
    if (!isSafetensorsDtype(dtype as string)) fail(`unknown dtype ${JSON.stringify(dtype)} (known: ${KNOWN_DTYPES.join(', ')})`, name);
    const shape = info.shape;
    if (!Array.isArray(shape)) fail('missing or non-array "shape"', name);
    elementCount(shape as number[], (m) => fail(m, name));
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) fail(`"data_offsets" must be [begin, end], got ${JSON.stringify(offs)}`, name);
    const [begin, end] = offs as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < 0) {
      fail(`"data_offsets" ${JSON.stringify(offs)} are not non-negative integers`, name);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), begin: begin as number, end: end as number });
  }

  // The reference sorts by (begin, end) and requires the tensors to tile the data section exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = fileSize - dataStart;
  let expected = 0;
  let prev: HeaderEntry | undefined;
  for (const e of entries) {
    const at = `data_offsets [${e.begin},${e.end}]`;
    if (e.end < e.begin) fail(`${at}: end is before begin`, e.name);
    const size = ITEM_SIZE[e.dtype];
    const want = elementCount(e.shape, (m) => fail(m, e.name)) * size;
    if (e.end - e.begin !== want) {
      fail(`${at} span ${e.end - e.begin} bytes, but shape ${fmtShape(e.shape)} of ${e.dtype} (${size} bytes each) needs ${want}`, e.name);
    }
    if (e.end > dataLength) fail(`${at} run past the end of the data section (${dataLength} bytes; file truncated?)`, e.name);
    if (e.begin < expected) fail(`${at} overlap tensor ${JSON.stringify(prev!.name)} at [${prev!.begin},${prev!.end}]`, e.name);
    if (e.begin > expected) {
      fail(`${at} leave a gap of ${e.begin - expected} bytes after ${prev ? `tensor ${JSON.stringify(prev.name)}` : 'the header'} (tensors must be contiguous)`, e.name);
    }
    if (opts.requireAligned && (dataStart + e.begin) % size !== 0) {
      fail(`misaligned: file offset ${dataStart + e.begin} is not a multiple of the ${e.dtype} element size ${size}`, e.name);
    }
    expected = e.end;
    prev = e;
  }
  if (expected !== dataLength) {
    fail(`${dataLength - expected} trailing bytes after the last tensor (the data section must end exactly at the end of the file)`);
  }
  return { headerLength, dataStart, entries, metadata };
}

let f16Table: Float32Array | undefined;
/** IEEE binary16 → f32 for all 65536 bit patterns (subnormals, ±0, ±Inf, NaN included). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : sign * Infinity;
    else t[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

/** Read one tensor's bytes (a fresh, aligned copy) into the wgml representation. */
function loadTensor(bytes: Uint8Array, e: HeaderEntry, dataStart: number, source: string): LoadedTensor {
  // Copy into a fresh buffer: aligned for typed-array views, and detached from the file's bytes.
  // (Not bytes.slice(): on a Node Buffer that is a view into a shared pool.)
  const raw = new Uint8Array(e.end - e.begin);
  raw.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
  const n = raw.byteLength / ITEM_SIZE[e.dtype];
  const dv = new DataView(raw.buffer);
  const shape = e.shape;
  switch (e.dtype) {
    case 'F32': {
      const data = HOST_LE ? new Float32Array(raw.buffer) : Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
      return { dtype: 'F32', shape, data, sourceDtype: 'F32' };
    }
    case 'F64': {
      const src = HOST_LE ? new Float64Array(raw.buffer) : Float64Array.from({ length: n }, (_, i) => dv.getFloat64(i * 8, true));
      return { dtype: 'F32', shape, data: Float32Array.from(src), sourceDtype: 'F64' }; // rounds to nearest f32
    }
    case 'F16': {
      const table = halfTable();
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = table[dv.getUint16(i * 2, true)]!;
      return { dtype: 'F32', shape, data, sourceDtype: 'F16' };
    }
    case 'BF16': {
      // bfloat16 is the top half of an f32: shift into place, reinterpret (exact, NaN/Inf kept).
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(i * 2, true) << 16;
      return { dtype: 'F32', shape, data: new Float32Array(bits.buffer), sourceDtype: 'BF16' };
    }
    case 'I64': {
      const data = HOST_LE ? new BigInt64Array(raw.buffer) : BigInt64Array.from({ length: n }, (_, i) => dv.getBigInt64(i * 8, true));
      return { dtype: 'I64', shape, data, sourceDtype: 'I64' };
    }
    case 'I32': {
      const data = HOST_LE ? new Int32Array(raw.buffer) : Int32Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true));
      return { dtype: 'I32', shape, data, sourceDtype: 'I32' };
    }
    default:
      throw new SafetensorsError(source, `unsupported dtype ${e.dtype} (wgml reads ${READABLE_DTYPES.join(', ')})`, e.name);
  }
}

/** Parse safetensors bytes (the whole file). Throws {@link SafetensorsError} on any malformation. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): SafetensorsContents {
  const source = opts.source ?? '<buffer>';
  const header = parseSafetensorsHeader(bytes, bytes.byteLength, opts);
  const tensors = Object.create(null) as Record<string, LoadedTensor>;
  const names: string[] = [];
  for (const e of header.entries) {
    tensors[e.name] = loadTensor(bytes, e, header.dataStart, source);
    names.push(e.name);
  }
  return { tensors, names, metadata: header.metadata };
}

/** Read and validate a safetensors file; errors name the file and the offending tensor. */
export async function readSafetensors(path: string, opts: Omit<DecodeOptions, 'source'> = {}): Promise<SafetensorsContents> {
  const bytes = await fsp.readFile(path);
  return decodeSafetensors(bytes, { ...opts, source: path });
}

/** Synchronous twin of {@link readSafetensors}. */
export function readSafetensorsSync(path: string, opts: Omit<DecodeOptions, 'source'> = {}): SafetensorsContents {
  return decodeSafetensors(fs.readFileSync(path), { ...opts, source: path });
}

/**
 * Read and validate only the header (names, dtypes, shapes, offsets, metadata) without loading
 * tensor data: cheap for large checkpoints, e.g. to infer a model config before loading.
 */
export async function readSafetensorsHeader(path: string, opts: Omit<DecodeOptions, 'source'> = {}): Promise<SafetensorsHeader> {
  const o = { ...opts, source: path };
  const handle = await fsp.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const first = new Uint8Array(Math.min(8, size));
    await handle.read(first, 0, first.length, 0);
    if (size < 8) return parseSafetensorsHeader(first, size, o); // throws "truncated"
    const n = new DataView(first.buffer).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER_SIZE) || 8 + Number(n) > size) return parseSafetensorsHeader(first, size, o); // throws
    const prefix = new Uint8Array(8 + Number(n));
    const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0);
    if (bytesRead !== prefix.length) throw new SafetensorsError(path, `short read of header (${bytesRead} of ${prefix.length} bytes)`);
    return parseSafetensorsHeader(prefix, size, o);
  } finally {
    await handle.close();
  }
}
