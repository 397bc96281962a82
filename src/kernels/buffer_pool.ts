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
//
// Free lists per size class cannot hand a free 50-MB buffer to a 40-MB request, so a training
// step at full size holds about 1.8× the bytes its backward pass needs. A loop of identical
// steps run through `step()` does better: after two steps with the same allocation trace the
// pool packs that trace offline (step_plan.ts) and later steps take their storage buffers from
// the plan. A step that allocates differently falls back to the free lists, and the plan only
// ever hands out a buffer nobody holds, so following it is never a correctness question.
import { packStep, planBytes, sameTrace, type StepPlan, type StepTrace } from './step_plan.js';

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
  /** The packed plan of the repeating step, and its buffers by slot. */
  private plan: StepPlan | null = null;
  private slots: GPUBuffer[] = [];
  /** While a step runs: its trace so far, and its live storage buffers by acquire index. */
  private stepTrace: StepTrace | null = null;
  private stepAcquires = new Map<GPUBuffer, number>();
  private stepUsed = new Set<GPUBuffer>();
  private acquiresInStep = 0;
  /** The running step has allocated as the plan says so far. */
  private following = false;
  private prevTrace: StepTrace | null = null;
  /** Bytes held by callers (size-class bytes), including buffers waiting for their submit. */
  bytesInUse = 0;
  /** Bytes callers asked for, of the buffers counted in `bytesInUse`. */
  bytesRequestedInUse = 0;
  /** Bytes of every GPU buffer the pool owns, free or not. */
  bytesAllocated = 0;
  /** The most bytes held by callers at once since the pool was made or `resetPeak()`. */
  peakBytesInUse = 0;
  /** The most bytes the pool owned at once since it was made or `resetPeak()`. */
  peakBytesAllocated = 0;
  buffersCreated = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, kind: BufferKind = 'storage', label = 'wgml'): PooledBuffer {
    if (!(bytes > 0) || !Number.isFinite(bytes)) {
      throw new RangeError(`buffer of ${bytes} bytes requested for ${label}`);
    }
    const size = sizeClass(bytes);
    const inStep = kind === 'storage' && this.stepTrace !== null;
    let buffer = (inStep ? this.planned(bytes) : undefined) ?? this.free.get(`${kind}:${size}`)?.pop() ?? (kind === 'storage' ? this.freeSlot(bytes) : undefined);
    if (!buffer) {
      buffer = this.create(size, kind, label);
    } else {
      buffer.label = `${label}[${kind} ${buffer.size}B]`;
    }
    if (inStep) {
      this.stepAcquires.set(buffer, this.acquiresInStep - 1);
      this.stepUsed.add(buffer);
    }
    this.live.add(buffer);
    this.used.add(buffer);
    this.bytesInUse += buffer.size;
    this.bytesRequestedInUse += bytes;
    if (this.bytesInUse > this.peakBytesInUse) this.peakBytesInUse = this.bytesInUse;
    return { buffer, bytes, kind };
  }

  private create(size: number, kind: BufferKind, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size, usage: USAGE[kind], label: `${label}[${kind} ${size}B]` });
    this.bytesAllocated += size;
    if (this.bytesAllocated > this.peakBytesAllocated) this.peakBytesAllocated = this.bytesAllocated;
    this.buffersCreated++;
    return buffer;
  }

  /** Records a storage acquire of the running step and returns the plan's buffer for it, if free. */
  private planned(bytes: number): GPUBuffer | undefined {
    const k = this.acquiresInStep++;
    const want = planBytes(bytes);
    this.stepTrace!.push(want);
    if (!this.following || !this.plan) return undefined;
    if (this.plan.sizes[k] !== want) {
      this.following = false;
      return undefined;
    }
    const slot = this.plan.slotOf[k]!;
    if (slot < 0) return undefined;
    const buffer = this.slots[slot]!;
    // Held by someone (the step released in another order than the plan's): not this one.
    if (this.live.has(buffer)) return undefined;
    return this.takeFree(buffer);
  }

  /**
   * Off the plan (a smaller last batch, an evaluation pass) with no free buffer of the class:
   * the smallest free plan buffer of at most twice the request, rather than a new buffer.
   */
  private freeSlot(bytes: number): GPUBuffer | undefined {
    let best: GPUBuffer | undefined;
    for (const b of this.slots) {
      if (b.size < bytes || b.size > 2 * bytes || this.live.has(b) || (best && b.size >= best.size)) continue;
      best = b;
    }
    return best && this.takeFree(best);
  }

  private takeFree(buffer: GPUBuffer): GPUBuffer | undefined {
    const list = this.free.get(`storage:${buffer.size}`);
    const i = list ? list.indexOf(buffer) : -1;
    if (i < 0) return undefined;
    list!.splice(i, 1);
    return buffer;
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
    const k = this.stepTrace ? this.stepAcquires.get(b.buffer) : undefined;
    if (k !== undefined) {
      this.stepTrace!.push(-(k + 1));
      this.stepAcquires.delete(b.buffer);
    }
    if (submitted || b.kind !== 'uniform') this.recycle(b);
    else this.pending.push(b);
  }

  private recycle(b: PooledBuffer): void {
    this.recycleBuffer(b.kind, b.buffer);
    this.bytesInUse -= b.buffer.size;
    this.bytesRequestedInUse -= b.bytes;
  }

  /** Called by the encoder once the commands that used pending buffers are submitted. */
  afterSubmit(): void {
    for (const b of this.pending) this.recycle(b);
    this.pending = [];
  }

  /**
   * Starts one iteration of a loop whose iterations allocate the same storage buffers in the
   * same order (a training step). Runtime.step wraps it; steps do not nest.
   */
  beginStep(): void {
    if (this.stepTrace) throw new Error('BufferPool.beginStep: a step is already running (steps do not nest)');
    this.stepTrace = [];
    this.acquiresInStep = 0;
    this.following = this.plan !== null;
  }

  /**
   * Ends the step. When it allocated exactly as the step before it, and not as the current
   * plan, its trace is packed into a new plan: the buffers of the step and of the old plan are
   * reused where a slot has their size, and the rest are destroyed. Call it with every command
   * that used them submitted (Runtime.step flushes first). `completed` false (the step threw)
   * records nothing.
   */
  endStep(completed = true): void {
    const trace = this.stepTrace;
    if (!trace) throw new Error('BufferPool.endStep: no step is running');
    this.stepTrace = null;
    this.stepAcquires.clear();
    const repeated = completed && sameTrace(trace, this.prevTrace);
    this.prevTrace = completed ? trace : null;
    if (repeated && !sameTrace(trace, this.plan?.trace ?? null)) this.adopt(packStep(trace));
    this.stepUsed.clear();
  }

  private adopt(plan: StepPlan): void {
    const spare = new Map<number, GPUBuffer[]>();
    for (const b of new Set([...this.stepUsed, ...this.slots])) {
      if (this.live.has(b) || !this.takeFree(b)) continue;
      let list = spare.get(b.size);
      if (!list) spare.set(b.size, (list = []));
      list.push(b);
    }
    // Destroy before creating, so the pool never holds both the old buffers and the new.
    const keep = plan.slotBytes.map((bytes) => spare.get(bytes)?.pop());
    for (const list of spare.values()) {
      for (const b of list) {
        this.bytesAllocated -= b.size;
        b.destroy();
      }
    }
    this.slots = keep.map((b, s) => b ?? this.create(plan.slotBytes[s]!, 'storage', 'wgml.step-plan'));
    for (const b of this.slots) {
      this.recycleBuffer('storage', b);
      this.used.add(b);
    }
    this.plan = plan;
  }

  private recycleBuffer(kind: BufferKind, buffer: GPUBuffer): void {
    const key = `${kind}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
  }

  private dropPlan(): void {
    this.plan = null;
    this.slots = [];
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
    // A plan whose buffers went unused for a whole round is stale.
    if (this.slots.some((b) => !this.used.has(b))) this.dropPlan();
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
    this.dropPlan();
    this.used = new Set(this.live);
  }

  resetPeak(): void {
    this.peakBytesInUse = this.bytesInUse;
    this.peakBytesAllocated = this.bytesAllocated;
  }

  stats(): { bytesInUse: number; bytesRequestedInUse: number; peakBytesInUse: number; bytesAllocated: number; peakBytesAllocated: number; stepPlanBytes: number; buffersCreated: number; live: number } {
    return {
      bytesInUse: this.bytesInUse,
      bytesRequestedInUse: this.bytesRequestedInUse,
      peakBytesInUse: this.peakBytesInUse,
      bytesAllocated: this.bytesAllocated,
      peakBytesAllocated: this.peakBytesAllocated,
      stepPlanBytes: this.slots.reduce((sum, b) => sum + b.size, 0),
      buffersCreated: this.buffersCreated,
      live: this.live.size,
    };
  }
}
