// Tiny synthetic echo-like frames for the augmentation tests: a fan-shaped sector with smooth
// structure inside, text-like blocks and a gradient outside, so rotations, flips and every
// background method leave visible, checkable traces.
import type { Dataset, Sample } from '../../src/data/dataset.js';
import { rng } from '../helpers/random.js';

export const S = 17;

/** Sector mask: pixels within 50° of straight down from an apex near the top, radius < 0.9·S. */
export function sectorMask(size: number, apexX = (size - 1) / 2, apexY = 1): Uint8Array {
  const m = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - apexX;
      const dy = y - apexY;
      const r = Math.hypot(dx, dy);
      const ang = Math.abs(Math.atan2(dx, dy));
      m[y * size + x] = dy >= 0 && r < 0.9 * size && ang < (50 * Math.PI) / 180 ? 1 : 0;
    }
  }
  return m;
}

/** A frame with structure everywhere: smooth blobs + speckle in the sector, blocks and a ramp outside. */
export function echoFrame(size: number, seed: number, mask = sectorMask(size)): Uint8Array {
  const r = rng(seed);
  const f = new Uint8Array(size * size);
  const cx = size * (0.3 + 0.4 * r());
  const cy = size * (0.4 + 0.3 * r());
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const q = y * size + x;
      if (mask[q]) {
        const blob = 160 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (0.08 * size * size));
        f[q] = Math.min(255, Math.round(40 + blob + 50 * r()));
      } else {
        const block = (Math.floor(x / 3) + Math.floor(y / 2) + seed) % 3 === 0 ? 120 : 0;
        f[q] = Math.min(255, Math.round(block + (x * 60) / size + 10 * r()));
      }
    }
  }
  return f;
}

/** A smooth frame (for comparing interpolators): a sum of low-frequency waves, 20..235. */
export function smoothFrame(size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const a = r() * 6;
  const b = r() * 6;
  const f = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = 127.5 + 60 * Math.sin((x * 2.1) / size * Math.PI + a) + 45 * Math.cos((y * 1.7) / size * Math.PI + b);
      f[y * size + x] = Math.round(Math.min(235, Math.max(20, v)));
    }
  }
  return f;
}

export interface FrameSpec {
  frame: Uint8Array;
  mask: Uint8Array | null;
  label?: number;
  id?: string;
}

/** A Dataset in memory (the shape src/data produces). */
export function makeDataset(specs: FrameSpec[], size = S, classes = ['PLAX', 'PSAX-AV', 'A2C', 'A4C']): Dataset {
  const p = size * size;
  const frames = new Uint8Array(specs.length * p);
  const anyMask = specs.some((s) => s.mask);
  const masks = anyMask ? new Uint8Array(specs.length * p) : null;
  const samples: Sample[] = specs.map((s, i) => {
    frames.set(s.frame, i * p);
    if (s.mask && masks) masks.set(s.mask, i * p);
    return {
      id: s.id ?? `train/f${String(i).padStart(4, '0')}`,
      file: `/synthetic/${i}.png`,
      label: s.label ?? i % classes.length,
      split: 'train',
      mask: s.mask !== null,
    };
  });
  return { format: 'manifest', source: '/synthetic', classes, size, samples, frames, masks, skipped: [], dropped: {} };
}

/** n structured frames with sector masks (mask of sample i jittered so donors differ). */
export function echoDataset(n: number, size = S, seed = 1): Dataset {
  return makeDataset(
    Array.from({ length: n }, (_, i) => {
      const mask = sectorMask(size, (size - 1) / 2 + ((i % 3) - 1), 1 + (i % 2));
      return { frame: echoFrame(size, seed * 1000 + i, mask), mask };
    }),
    size,
  );
}

/** max |a − b| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
