// Turns the augmenter's BatchParams into the reference's RefSample list.
import type { Dataset } from '../../src/data/dataset.js';
import type { BatchParams } from '../../src/backmix/augment_params.js';
import type { RefSample } from '../reference/augment.js';

export function refSamples(ds: Dataset, p: BatchParams): RefSample[] {
  const n = ds.size * ds.size;
  const frame = (i: number) => ds.frames.subarray(i * n, (i + 1) * n);
  const mask = (i: number) => (ds.masks && ds.samples[i]!.mask ? ds.masks.subarray(i * n, (i + 1) * n) : null);
  return p.samples.map((s) => {
    const r: RefSample = {
      frame: frame(s.index),
      mask: mask(s.index),
      angle: s.angle,
      flip: s.flip,
      alpha: s.alpha,
      beta: s.beta,
      masked: s.masked,
      key: s.key,
    };
    if (s.donor >= 0) {
      r.donorFrame = frame(s.donor);
      r.donorMask = mask(s.donor)!;
    }
    return r;
  });
}

/** Splits a [B, n] readback into per-image arrays. */
export function perImage(a: Float32Array, B: number): Float32Array[] {
  const n = a.length / B;
  return Array.from({ length: B }, (_, b) => a.subarray(b * n, (b + 1) * n));
}
