// The dataset, resident on the GPU: frames as u8 packed four to a u32 and masks as bits (1 =
// sector), uploaded once. A batch gathers the frames it needs (sources and donors) into a
// compact slot buffer with buffer-to-buffer copies, so no image crosses the bus per batch and
// datasets larger than one storage binding (lavapipe: 128 MiB; 15k × 112² frames are 188 MB)
// still work: the resident copy is split into chunks that are only ever copy sources.
import type { Runtime } from '../kernels/runtime.js';
import type { PooledBuffer } from '../kernels/buffer_pool.js';

export interface StoreSource {
  size: number;
  /** [N, size, size] u8 */
  frames: Uint8Array;
  /** [N, size, size] u8 0/1, or null */
  masks: Uint8Array | null;
  /** hasMask(i): whether masks row i is meaningful */
  hasMask: (i: number) => boolean;
}

/** Bytes per resident chunk: big enough that a 15k-frame dataset needs 3, small enough for any adapter. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export class DatasetStore {
  readonly count: number;
  readonly size: number;
  /** u32 words per frame (S² bytes rounded up to a multiple of 4). */
  readonly frameWords: number;
  /** u32 words per mask (S² bits rounded up to a multiple of 32). */
  readonly maskWords: number;
  private readonly perChunk: number;
  private readonly frameChunks: PooledBuffer[] = [];
  private readonly maskChunks: PooledBuffer[] = [];
  private disposed = false;

  constructor(private readonly rt: Runtime, src: StoreSource, chunkBytes = DEFAULT_CHUNK_BYTES) {
    const S = src.size;
    const px = S * S;
    if (!Number.isInteger(S) || S < 1) throw new RangeError(`dataset store: bad frame size ${S}`);
    if (src.frames.length % px !== 0) throw new RangeError(`dataset store: frames hold ${src.frames.length} bytes, not a multiple of ${S}×${S}`);
    this.count = src.frames.length / px;
    if (this.count === 0) throw new RangeError('dataset store: the dataset has no frames');
    if (src.masks && src.masks.length !== src.frames.length) {
      throw new RangeError(`dataset store: masks hold ${src.masks.length} bytes but frames ${src.frames.length}`);
    }
    this.size = S;
    this.frameWords = Math.ceil(px / 4);
    this.maskWords = Math.ceil(px / 32);
    const limit = Math.min(chunkBytes, rt.device.limits.maxBufferSize);
    this.perChunk = Math.max(1, Math.floor(limit / (this.frameWords * 4)));
    for (let start = 0; start < this.count; start += this.perChunk) {
      const n = Math.min(this.perChunk, this.count - start);
      const f = new Uint8Array(n * this.frameWords * 4);
      const m = new Uint32Array(n * this.maskWords);
      for (let k = 0; k < n; k++) {
        const i = start + k;
        f.set(src.frames.subarray(i * px, (i + 1) * px), k * this.frameWords * 4);
        if (src.masks && src.hasMask(i)) {
          const row = src.masks.subarray(i * px, (i + 1) * px);
          const o = k * this.maskWords;
          for (let q = 0; q < px; q++) if (row[q]) m[o + (q >>> 5)]! |= 1 << (q & 31);
        }
      }
      const fb = rt.alloc(f.byteLength, 'augment.store.frames');
      const mb = rt.alloc(m.byteLength, 'augment.store.masks');
      rt.encoder.write(fb, f);
      rt.encoder.write(mb, m);
      this.frameChunks.push(fb);
      this.maskChunks.push(mb);
    }
  }

  /** GPU bytes held by the resident copy. */
  get bytes(): number {
    return this.count * (this.frameWords + this.maskWords) * 4;
  }

  /**
   * Copies frames and masks of `indices` into new slot buffers:
   * frames: [slots, frameWords] u32, masks: [slots, maskWords] u32. The caller releases them.
   * Consecutive indices within a chunk become one copy.
   */
  gather(indices: readonly number[]): { frames: PooledBuffer; masks: PooledBuffer } {
    if (this.disposed) throw new Error('dataset store: used after dispose()');
    if (indices.length === 0) throw new RangeError('dataset store: gather of no samples');
    const frames = this.rt.alloc(indices.length * this.frameWords * 4, 'augment.slots.frames');
    const masks = this.rt.alloc(indices.length * this.maskWords * 4, 'augment.slots.masks');
    let k = 0;
    while (k < indices.length) {
      const first = indices[k]!;
      if (!Number.isInteger(first) || first < 0 || first >= this.count) {
        throw new RangeError(`augment: sample index ${first} outside 0..${this.count - 1}`);
      }
      const chunk = Math.floor(first / this.perChunk);
      let run = 1;
      while (
        k + run < indices.length &&
        indices[k + run] === first + run &&
        Math.floor((first + run) / this.perChunk) === chunk
      ) {
        run++;
      }
      const local = first - chunk * this.perChunk;
      const fw = this.frameWords * 4;
      const mw = this.maskWords * 4;
      this.rt.encoder.copy(this.frameChunks[chunk]!, local * fw, frames, k * fw, run * fw);
      this.rt.encoder.copy(this.maskChunks[chunk]!, local * mw, masks, k * mw, run * mw);
      k += run;
    }
    return { frames, masks };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [...this.frameChunks, ...this.maskChunks]) this.rt.release(b);
    this.frameChunks.length = 0;
    this.maskChunks.length = 0;
  }
}
