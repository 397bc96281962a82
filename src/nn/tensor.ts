// Tensor: a pooled GPU buffer with a shape. Memory is explicit — `dispose()` or `scope(fn)` —
// because GPU buffers are not garbage-collected in any useful time frame, and training must
// keep the pool flat step after step.
import type { Runtime } from '../kernels/runtime.js';
import type { PooledBuffer } from '../kernels/buffer_pool.js';

export type DType = 'f32' | 'u32';

let nextId = 1;
const scopeStack: Set<Tensor>[] = [];

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A pooled buffer shared by a tensor and its views; freed when the last holder lets go. */
class Storage {
  holders = 0;
  constructor(readonly rt: Runtime, public buf: PooledBuffer | null) {}

  drop(): void {
    if (--this.holders === 0 && this.buf) {
      this.rt.release(this.buf);
      this.buf = null;
    }
  }
}

export class Tensor {
  readonly id = nextId++;
  /** Gradient of the loss w.r.t. this tensor, filled by backward when `requiresGrad`. */
  grad: Tensor | null = null;
  /** When true the next gradient contribution overwrites `grad` instead of adding (see zeroGrad). */
  gradStale = false;
  /** Holders of this handle: its creator plus one per tape node that saved it for backward. */
  private refs = 1;
  private handleDropped = false;
  private readonly storage: Storage;

  constructor(
    readonly rt: Runtime,
    readonly shape: readonly number[],
    buf: PooledBuffer | Storage,
    readonly dtype: DType = 'f32',
    public requiresGrad = false,
    readonly label = 'tensor',
  ) {
    this.storage = buf instanceof Storage ? buf : new Storage(rt, buf);
    this.storage.holders++;
    const bytes = this.storage.buf?.bytes ?? 0;
    if (bytes < numel(shape) * 4) {
      throw new RangeError(`${label}: buffer of ${bytes} B is too small for ${shapeStr(shape)}`);
    }
    scopeStack[scopeStack.length - 1]?.add(this);
  }

  static empty(rt: Runtime, shape: readonly number[], label = 'tensor', dtype: DType = 'f32'): Tensor {
    return new Tensor(rt, shape, rt.alloc(Math.max(1, numel(shape)) * 4, label), dtype, false, label);
  }

  static fromArray(rt: Runtime, data: Float32Array | Uint32Array, shape: readonly number[], label = 'tensor'): Tensor {
    if (data.length !== numel(shape)) {
      throw new RangeError(`${label}: ${data.length} values for shape ${shapeStr(shape)} (${numel(shape)} expected)`);
    }
    const dtype: DType = data instanceof Uint32Array ? 'u32' : 'f32';
    return new Tensor(rt, shape, rt.upload(data, label), dtype, false, label);
  }

  get size(): number {
    return numel(this.shape);
  }

  get disposed(): boolean {
    return this.refs === 0;
  }

  /** The GPU buffer; throws on use after dispose (a tape bug, not a user error). */
  get buffer(): PooledBuffer {
    if (this.refs === 0 || !this.storage.buf) {
      throw new Error(`${this.label}#${this.id} ${shapeStr(this.shape)} used after dispose`);
    }
    return this.storage.buf;
  }

  /** Adds a holder (a tape node saving this tensor for backward); pair with `release()`. */
  retain(): this {
    if (this.refs === 0) throw new Error(`${this.label}#${this.id} retained after dispose`);
    this.refs++;
    return this;
  }

  /** Drops a holder added by `retain()`; the buffer returns to the pool with the last one. */
  release(): void {
    if (this.refs === 0) return;
    if (--this.refs > 0) return;
    for (const s of scopeStack) s.delete(this);
    this.storage.drop();
  }

  /** Drops the creator's handle (once; later calls do nothing). Saved copies stay alive. */
  dispose(): void {
    if (this.handleDropped) return;
    this.handleDropped = true;
    for (const s of scopeStack) s.delete(this);
    this.release();
  }

  /** Removes this tensor from the enclosing scopes so it outlives them. */
  keep(): this {
    for (const s of scopeStack) s.delete(this);
    return this;
  }

  async toArray(): Promise<Float32Array> {
    return this.rt.readF32(this.buffer, this.size, this.label);
  }

  async toU32Array(): Promise<Uint32Array> {
    return this.rt.readU32(this.buffer, this.size, this.label);
  }

  /** The same buffer under another shape with the same element count (no copy). */
  view(shape: readonly number[], label = this.label): Tensor {
    if (numel(shape) !== this.size) {
      throw new RangeError(`${this.label}: cannot view ${shapeStr(this.shape)} as ${shapeStr(shape)}`);
    }
    return new Tensor(this.rt, shape, this.storage, this.dtype, false, label);
  }
}

/**
 * Runs `fn`, then disposes every tensor created inside that is not returned (or `keep()`-ed).
 * Returned tensors (directly, in an array, or as object values) survive. When `fn` throws,
 * everything created inside is disposed.
 */
export async function scope<T>(fn: () => Promise<T> | T): Promise<T> {
  const created = new Set<Tensor>();
  scopeStack.push(created);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    // A step that throws must not leak its tensors (a caller that catches and carries on
    // would otherwise lose the pool memory for good).
    for (const t of created) t.dispose();
    throw e;
  } finally {
    scopeStack.pop();
  }
  const survivors = new Set<Tensor>();
  const collect = (v: unknown): void => {
    if (v instanceof Tensor) survivors.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach(collect);
  };
  collect(result);
  for (const t of created) {
    if (survivors.has(t)) scopeStack[scopeStack.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}
