// Packing one training step's storage buffers offline. A loop of identical steps allocates the
// same buffers in the same order every time, so once a step has been seen twice its whole
// allocation trace is known: each buffer is an interval [acquire, release) on the step's event
// clock, and buffers whose intervals do not overlap can share one GPU buffer. Online, the pool
// cannot know that a free buffer will fit a later, bigger request, so each size keeps its own
// free list; offline, the biggest buffers are placed first and the smaller ones fill the gaps
// between them (greedy by size, best fit), which comes close to the most bytes live at once.

/**
 * A step's storage allocations in order: a size (bytes, > 0) for each acquire, and
 * −(k + 1) for the release of the k-th acquire.
 */
export type StepTrace = number[];

export interface StepPlan {
  /** The trace the plan was packed from; a step that allocates differently leaves the plan. */
  trace: StepTrace;
  /** Size of each acquire, in acquire order. */
  sizes: number[];
  /** Slot of each acquire, or −1 for a buffer that outlives the step (left to the pool). */
  slotOf: number[];
  /** Bytes of each slot: the largest buffer placed in it. */
  slotBytes: number[];
}

/** Bytes of a planned buffer: whole 256-byte units, so nearly equal requests share a size. */
export function planBytes(bytes: number): number {
  return Math.ceil(Math.max(16, bytes) / 256) * 256;
}

export function sameTrace(a: StepTrace | null, b: StepTrace | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Interval {
  k: number;
  start: number;
  end: number;
  bytes: number;
}

export function packStep(trace: StepTrace): StepPlan {
  const sizes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  trace.forEach((e, t) => {
    if (e > 0) {
      sizes.push(e);
      starts.push(t);
      ends.push(-1);
    } else {
      ends[-e - 1] = t;
    }
  });
  const intervals: Interval[] = [];
  for (let k = 0; k < sizes.length; k++) {
    if (ends[k]! >= 0) intervals.push({ k, start: starts[k]!, end: ends[k]!, bytes: sizes[k]! });
  }
  // Biggest first; ties in acquire order, so the plan is a function of the trace alone.
  intervals.sort((a, b) => b.bytes - a.bytes || a.k - b.k);
  const slotOf = new Array<number>(sizes.length).fill(-1);
  const slotBytes: number[] = [];
  const slotIntervals: Interval[][] = [];
  for (const iv of intervals) {
    let best = -1;
    for (let s = 0; s < slotBytes.length; s++) {
      if (slotBytes[s]! < iv.bytes || (best >= 0 && slotBytes[s]! >= slotBytes[best]!)) continue;
      // A release and a later acquire at the next event may share: storage buffers are reusable
      // the moment they are released (see buffer_pool.ts).
      if (slotIntervals[s]!.every((o) => o.end < iv.start || iv.end < o.start)) best = s;
    }
    if (best < 0) {
      best = slotBytes.length;
      slotBytes.push(iv.bytes);
      slotIntervals.push([]);
    }
    slotIntervals[best]!.push(iv);
    slotOf[iv.k] = best;
  }
  return { trace, sizes, slotOf, slotBytes };
}
