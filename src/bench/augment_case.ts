// The augmentation + BackMix case of `wgml bench`: wgml's fused kernels (createAugmenter →
// augmentWithParams) against the same pipeline written with TensorFlow.js ops, on the same drawn
// parameters (angle, flip, α, β, donor): rotate + flip (tf.image.transform; bilinear, where wgml
// reproduces OpenCV's fixed-point bicubic), the uint8 brightness/contrast LUT as arithmetic,
// BackMix (m·x + (1 − m)·donor·(1 − m_donor)), clip, /255 and the per-image z-score.
// Interpolations differ, so agreement is a correlation, not a tolerance on values.
import type { Runtime } from '../kernels/runtime.js';
import { createAugmenter } from '../backmix/augment.js';
import type { BatchParams } from '../backmix/augment_params.js';
import type { Dataset } from '../data/dataset.js';
import type { Tf } from './peers.js';

/** `count` frames with a sector (speckle inside, stripes outside) and its mask, 4 classes. */
export function sectorDataset(count: number, size: number): Dataset {
  const p = size * size;
  const frames = new Uint8Array(count * p);
  const masks = new Uint8Array(count * p);
  let s = 7;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const apex = size / 2 + (u() - 0.5) * 8;
    for (let q = 0; q < p; q++) {
      const x = q % size, y = Math.floor(q / size);
      const inside = Math.hypot(x - apex, y) < 0.92 * size && Math.abs(Math.atan2(x - apex, y + 1)) < 0.75;
      masks[i * p + q] = inside ? 1 : 0;
      frames[i * p + q] = inside ? 30 + Math.floor(170 * u()) : (x + 2 * y) % 9 < 3 ? 180 : 5;
    }
  }
  return {
    format: 'manifest', source: 'bench', classes: ['PLAX', 'PSAX-AV', 'A2C', 'A4C'], size, frames, masks, skipped: [], dropped: {},
    samples: Array.from({ length: count }, (_, i) => ({ id: `b${String(i).padStart(3, '0')}`, file: '', label: i % 4, split: 'train', mask: true })),
  };
}

export interface AugmentSetup {
  params: BatchParams;
  wgml: () => { run: () => Promise<void>; output: () => Promise<Float32Array>; dispose: () => void };
  tf: (tf: Tf) => { run: () => Promise<void>; output: () => Promise<Float32Array>; dispose: () => void };
}

export function augmentCase(rt: Runtime, B: number, S: number): AugmentSetup {
  const ds = sectorDataset(2 * B, S);
  const aug = createAugmenter(rt, ds, { method: 'backmix', fraction: 1, seed: 3, cutmixProb: 0 });
  const params = aug.drawParams(Array.from({ length: B }, (_, i) => i));
  return {
    params,
    wgml: () => {
      let last: Float32Array = new Float32Array(0);
      let x: ReturnType<typeof aug.augmentWithParams>['x'] | null = null;
      return {
        run: async () => {
          if (x) rt.release(x);
          x = aug.augmentWithParams(params).x;
          await rt.finish();
        },
        output: async () => (last = await rt.readF32(x!, B * S * S)),
        dispose: () => {
          if (x) rt.release(x);
          aug.dispose();
          void last;
        },
      };
    },
    tf: (tf: Tf) => {
      const p = S * S;
      const pick = (src: Uint8Array, idx: number[]) => {
        const out = new Float32Array(idx.length * p);
        idx.forEach((k, b) => out.set(src.subarray(k * p, (k + 1) * p), b * p));
        return tf.tensor4d(out, [idx.length, S, S, 1]);
      };
      const sp = params.samples;
      const frames = pick(ds.frames, sp.map((q) => q.index));
      const masks = pick(ds.masks!, sp.map((q) => q.index));
      const donors = sp.map((q) => (q.masked && q.donor >= 0 ? q.donor : q.index));
      const donorBg = tf.mul(pick(ds.frames, donors), tf.sub(1, pick(ds.masks!, donors)));
      const masked = tf.tensor4d(sp.map((q) => (q.masked ? 1 : 0)), [B, 1, 1, 1]);
      const c = (S - 1) / 2;
      // Output pixel → source pixel: flip first (x → S−1−x), then rotate by −angle about the centre.
      const transforms = tf.tensor2d(sp.flatMap((q) => {
        const t = (q.angle * Math.PI) / 180, cs = Math.cos(t), sn = Math.sin(t), f = q.flip ? -1 : 1;
        const a0 = f * cs, a1 = -sn, b0 = f * sn, b1 = cs;
        return [a0, a1, c - a0 * c - a1 * c, b0, b1, c - b0 * c - b1 * c, 0, 0];
      }), [B, 8]);
      const alpha = tf.tensor4d(sp.map((q) => q.alpha), [B, 1, 1, 1]);
      const beta = tf.tensor4d(sp.map((q) => 255 * q.beta), [B, 1, 1, 1]);
      const pipeline = () => tf.tidy(() => {
        const x = tf.round(tf.image.transform(frames, transforms, 'bilinear', 'nearest'));
        const m = tf.image.transform(masks, transforms, 'nearest', 'nearest');
        const bc = tf.floor(tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 255));
        const mixed = tf.add(tf.mul(bc, m), tf.mul(tf.mul(tf.sub(1, m), donorBg), masked));
        const y = tf.add(tf.mul(bc, tf.sub(1, masked)), tf.mul(mixed, masked));
        const v = tf.div(tf.clipByValue(y, 0, 255), 255);
        const { mean, variance } = tf.moments(v, [1, 2, 3], true);
        return tf.div(tf.sub(v, mean), tf.sqrt(tf.maximum(variance, 1e-12)));
      });
      let y: Tf = null;
      return {
        run: async () => {
          y?.dispose();
          y = pipeline();
          const one = tf.slice(tf.reshape(y, [-1]), 0, 1);
          await one.data();
          one.dispose();
        },
        output: async () => y.data(),
        dispose: () => tf.dispose([frames, masks, donorBg, masked, transforms, alpha, beta, y]),
      };
    },
  };
}

/** Pearson correlation of two equally long arrays. */
export function correlation(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length === 0) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= a.length; mb /= b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
