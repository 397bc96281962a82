// Pooled GPU buffers. Creating and destroying buffers per op costs driver calls and
// fragments memory; training reuses the same shapes every step, so free lists keyed by a
// size class make allocation flat after the first step.
//
// When a released buffer may be reused depends on who writes it next. Commands in one command
// buffer run in order, so a later kernel writing a storage buffer cannot overtake an earlier
// kernel reading it; and host writes of storage buffers go through Encoder.write, which submits
// the commands encoded so far first. A storage (or readback) buffer is therefore reusable the
// moment it is released — a step's backward pass reuses the activations it has finished with.
// A uniform buffer is written with queue.writeBuffer straight away, which lands before the
// pending commands are submitted: it waits in `pending` until the encoder says they were.

export type BufferKind = 'storage' | 'uniform' | 'readback';

const USAGE: Record<BufferKind, number> = {
  storage: 0x80 /* STORAGE */ | 0x08 /* COPY_DST */ | 0x04 /* COPY_SRC */,
  uniform: 0x40 /* UNIFORM */ | 0x08 /* COPY_DST */,
  readback: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */,
};

export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Bytes the caller asked for; `buffer.size` is the (larger) size class. */
  readonly bytes: number;
  readonly kind: BufferKind;
}

/**
 * Rounds up to a quarter-octave size class (at most 25% waste) above 4 KiB; below that to
 * 256 B multiples, so small parameter and uniform buffers stay small.
 */
export function sizeClass(bytes: number): number {
  const min = Math.max(16, bytes);
  if (min <= 4096) return Math.ceil(min / 256) * 256;
  const octave = 2 ** Math.floor(Math.log2(min));
  const quarter = octave / 4;
  return Math.ceil(min / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: PooledBuffer[] = [];
  private live = new Set<GPUBuffer>();
  /** Buffers handed out since the last `trimIdle()`. */
  private used = new Set<GPUBuffer>();
  /** Bytes held by callers (size-class bytes), including buffers waiting for their submit. */
  bytesInUse = 0;
  /** Bytes of every GPU buffer the pool owns, free or not. */
  bytesAllocated = 0;
  /** The most bytes held by callers at once since the pool was made or `resetPeak()`. */
  peakBytesInUse = 0;
  buffersCreated = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, kind: BufferKind = 'storage', label = 'wgml'): PooledBuffer {
    if (!(bytes > 0) || !Number.isFinite(bytes)) {
      throw new RangeError(`buffer of ${bytes} bytes requested for ${label}`);
    }
    const size = sizeClass(bytes);
    let buffer = this.free.get(`${kind}:${size}`)?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage: USAGE[kind], label: `${label}[${kind} ${size}B]` });
      this.bytesAllocated += size;
      this.buffersCreated++;
    } else {
      buffer.label = `${label}[${kind} ${buffer.size}B]`;
    }
    this.live.add(buffer);
    this.used.add(buffer);
    this.bytesInUse += buffer.size;
    if (this.bytesInUse > this.peakBytesInUse) this.peakBytesInUse = this.bytesInUse;
    return { buffer, bytes, kind };
  }

  /**
   * Returns a buffer. Storage and readback buffers are reusable at once (see the top of this
   * file); a uniform buffer after the next submit (`afterSubmit`), or at once with `submitted`
   * when every command that used it has already been submitted.
   */
  release(b: PooledBuffer, submitted = false): void {
    if (!this.live.delete(b.buffer)) {
      throw new Error(`buffer ${b.buffer.label} released twice or not from this pool`);
    }
    if (submitted || b.kind !== 'uniform') this.recycle(b);
    else this.pending.push(b);
  }

  private recycle(b: PooledBuffer): void {
    const key = `${b.kind}:${b.buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(b.buffer);
    this.bytesInUse -= b.buffer.size;
  }

  /** Called by the encoder once the commands that used pending buffers are submitted. */
  afterSubmit(): void {
    for (const b of this.pending) this.recycle(b);
    this.pending = [];
  }

  /**
   * Destroys the free buffers nobody has taken since the previous call (the trainer calls it once
   * an epoch), so memory of a shape that is no longer used — a one-off evaluation batch, the
   * first step's extras — goes back to the driver. Returns the bytes freed.
   */
  trimIdle(): number {
    let freed = 0;
    for (const [key, list] of this.free) {
      const keep = list.filter((buf) => this.used.has(buf));
      for (const buf of list) {
        if (this.used.has(buf)) continue;
        freed += buf.size;
        buf.destroy();
      }
      if (keep.length) this.free.set(key, keep);
      else this.free.delete(key);
    }
    this.bytesAllocated -= freed;
    this.used = new Set(this.live);
    return freed;
  }

  /** Destroys every free buffer (e.g. between runs that use different shapes). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buf of list) {
        this.bytesAllocated -= buf.size;
        buf.destroy();
      }
    }
    this.free.clear();
    this.used = new Set(this.live);
  }

  resetPeak(): void {
    this.peakBytesInUse = this.bytesInUse;
  }

  stats(): { bytesInUse: number; peakBytesInUse: number; bytesAllocated: number; buffersCreated: number; live: number } {
    return {
      bytesInUse: this.bytesInUse,
      peakBytesInUse: this.peakBytesInUse,
      bytesAllocated: this.bytesAllocated,
      buffersCreated: this.buffersCreated,
      live: this.live.size,
    };
  }
}
