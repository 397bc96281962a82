// Per-batch random parameters, drawn on the host from seeded streams and packed into the one
// small buffer the augment kernel reads, so a seed reproduces a run exactly.
//
// Streams: 'augment' draws, per sample and always in this order, angle ~ U(−30°, 30°),
// flip ~ Bernoulli(0.5), α = 1 + U(−0.15, 0.15), β = U(−0.15, 0.15) (albumentations Rotate,
// HorizontalFlip, RandomBrightnessContrast as configured by the reference). 'mix' draws
// what depends on the method (BackMix donor, permutation key, CutMix box), so the same seed
// gives the same rotations and intensities under every method (paired comparisons).
import type { AugRng } from './rng.js';
import { drawDonor } from './donors.js';
import { type Method, needsMask } from './methods.js';
import { warpRows } from './warp_tables.js';
import { shaderConst } from '../kernels/shader_layout.js';

export const ROTATE_LIMIT_DEG = 30;
export const CONTRAST_LIMIT = 0.15;
export const BRIGHTNESS_LIMIT = 0.15;
export const FLIP_PROB = 0.5;

export interface SampleParams {
  /** Dataset index of the source frame. */
  index: number;
  /** Rotation in degrees, counter-clockwise on screen (OpenCV's sign). */
  angle: number;
  flip: boolean;
  /** Contrast factor α. */
  alpha: number;
  /** Brightness offset β (fraction of 255). */
  beta: number;
  /** The background method applies to this sample (it is in the masked subset). */
  masked: boolean;
  /** BackMix donor's dataset index, or −1. */
  donor: number;
  /** u32 key of this sample's pseudo-random permutation (noise, shuffle). */
  key: number;
}

export interface CutMixParams {
  /** Whether this batch is mixed (probability p per batch, as in Yun et al.'s code). */
  active: boolean;
  /** Box [x1, y1, x2, y2), columns x and rows y. */
  box: [number, number, number, number];
  /** partner[b] = batch position whose pixels fill sample b's box (a random permutation). */
  partner: number[];
  /** Weight of each sample's own label: 1 − box area / S² (1 when inactive). */
  lam: number;
}

export interface BatchParams {
  samples: SampleParams[];
  cutmix?: CutMixParams;
}

/** Parameters that leave a frame unchanged (angle 0, no flip, α = 1, β = 0). */
export function identityParams(index: number): SampleParams {
  return { index, angle: 0, flip: false, alpha: 1, beta: 0, masked: false, donor: -1, key: 0 };
}

export interface DrawContext {
  augRng: AugRng;
  mixRng: AugRng;
  method: Method;
  /** member[i] = 1 iff dataset sample i is in the masked subset. */
  member: Uint8Array;
  /** The masked subset (donor pool). */
  subset: readonly number[];
  size: number;
  cutmixProb: number;
  /** False: geometric and intensity augmentation off (background method still applies). */
  augment: boolean;
}

export function drawBatchParams(indices: readonly number[], ctx: DrawContext): BatchParams {
  const useMask = needsMask(ctx.method);
  const samples = indices.map((index): SampleParams => {
    const r = ctx.augRng;
    const angle = r.uniform(-ROTATE_LIMIT_DEG, ROTATE_LIMIT_DEG);
    const flip = r.next() < FLIP_PROB;
    const alpha = 1 + r.uniform(-CONTRAST_LIMIT, CONTRAST_LIMIT);
    const beta = r.uniform(-BRIGHTNESS_LIMIT, BRIGHTNESS_LIMIT);
    const s: SampleParams = ctx.augment ? { index, angle, flip, alpha, beta, masked: false, donor: -1, key: 0 } : identityParams(index);
    s.masked = useMask && ctx.member[index] === 1;
    if (s.masked && ctx.method === 'backmix') s.donor = drawDonor(ctx.mixRng, ctx.subset);
    if (s.masked && (ctx.method === 'noise' || ctx.method === 'shuffle')) s.key = ctx.mixRng.nextU32();
    return s;
  });
  const out: BatchParams = { samples };
  if (ctx.method === 'cutmix') out.cutmix = drawCutMix(ctx.mixRng, indices.length, ctx.size, ctx.cutmixProb);
  return out;
}

/**
 * Yun et al.'s rand_bbox: λ ~ Beta(1,1) = U(0,1), cut = S·√(1−λ) truncated, centre uniform
 * over pixels, box clipped to the image; λ is then recomputed from the clipped area.
 */
export function drawCutMix(rng: AugRng, batch: number, size: number, prob: number): CutMixParams {
  const identity = Array.from({ length: batch }, (_, i) => i);
  if (!(rng.next() < prob)) return { active: false, box: [0, 0, 0, 0], partner: identity, lam: 1 };
  const lam0 = rng.next();
  const partner = identity;
  for (let i = batch - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [partner[i], partner[j]] = [partner[j]!, partner[i]!];
  }
  const cut = Math.trunc(size * Math.sqrt(1 - lam0));
  const cx = rng.int(size);
  const cy = rng.int(size);
  const clip = (v: number) => Math.min(size, Math.max(0, v));
  const half = Math.floor(cut / 2);
  const box: [number, number, number, number] = [clip(cx - half), clip(cy - half), clip(cx + half), clip(cy + half)];
  const lam = 1 - ((box[2] - box[0]) * (box[3] - box[1])) / (size * size);
  return { active: true, box, partner, lam };
}

/** The packed sample's word offsets and flags, as shaders/augment_sample.wgsl declares them. */
const word = (name: string) => shaderConst('augment_sample.wgsl', name);
const H = {
  SOURCE: word('H_SOURCE'), DONOR: word('H_DONOR'), FLAGS: word('H_FLAGS'), ALPHA: word('H_ALPHA'), KEY: word('H_KEY'),
  PARTNER: word('H_PARTNER'), BOX: word('H_BOX'), WORDS: word('H_WORDS'), WARP_TABLES: word('WARP_TABLES'),
  LUT_WORDS: word('LUT_WORDS'),
};

/** Words per sample in the packed buffer: the header, the warp tables (S words each), the LUT. */
export function sampleStride(size: number): number {
  return H.WORDS + H.WARP_TABLES * size + H.LUT_WORDS;
}

export const FLAG_FLIP = word('F_FLIP');
export const FLAG_MASKED = word('F_MASKED');
export const FLAG_HAS_MASK = word('F_HAS_MASK');
export const FLAG_CUTMIX = word('F_CUTMIX');
export const NO_SLOT = word('NO_SLOT');

/**
 * The brightness/contrast LUT exactly as albumentations builds it for uint8 (float32 numpy):
 * lut = trunc(clip(f32(f32(v)·f32(α)) + f32(β·255), 0, 255)), 256 entries.
 */
export function contrastLut(alpha: number, beta: number): Uint8Array {
  const a = Math.fround(alpha);
  const b = Math.fround(beta * 255);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    let t = alpha !== 1 ? Math.fround(v * a) : v;
    if (beta !== 0) t = Math.fround(t + b);
    lut[v] = Math.trunc(Math.min(255, Math.max(0, t)));
  }
  return lut;
}

export interface PackedBatch {
  /** [B][sampleStride(S)] i32 (see augment_sample.wgsl for the layout). */
  data: Int32Array;
  /** Dataset indices whose frames the batch reads, in slot order. */
  slots: number[];
}

/**
 * Packs a batch. `hasMask(i)` says whether dataset sample i has a sector mask (its augmented
 * mask goes to the mask output; samples without one output zeros).
 */
export function packBatch(p: BatchParams, size: number, hasMask: (i: number) => boolean): PackedBatch {
  const B = p.samples.length;
  const stride = sampleStride(size);
  const data = new Int32Array(B * stride);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const slotOf = new Map<number, number>();
  const slots: number[] = [];
  const slot = (i: number) => {
    let s = slotOf.get(i);
    if (s === undefined) {
      s = slots.length;
      slotOf.set(i, s);
      slots.push(i);
    }
    return s;
  };
  const cm = p.cutmix;
  if (cm && cm.partner.length !== B) throw new RangeError(`cutmix: ${cm.partner.length} partners for a batch of ${B}`);
  p.samples.forEach((s, b) => {
    const o = b * stride;
    data[o + H.SOURCE] = slot(s.index);
    data[o + H.DONOR] = s.donor >= 0 ? slot(s.donor) : NO_SLOT | 0;
    let flags = 0;
    if (s.flip) flags |= FLAG_FLIP;
    if (s.masked) flags |= FLAG_MASKED;
    if (hasMask(s.index)) flags |= FLAG_HAS_MASK;
    if (cm?.active) flags |= FLAG_CUTMIX;
    data[o + H.FLAGS] = flags;
    f32[0] = s.alpha;
    data[o + H.ALPHA] = u32[0]! | 0;
    data[o + H.KEY] = s.key | 0;
    if (cm) {
      data[o + H.PARTNER] = cm.partner[b]!;
      data.set(cm.box, o + H.BOX);
    }
    warpRows(size, s.angle, data, o + H.WORDS);
    const lut = contrastLut(s.alpha, s.beta);
    const words = new Int32Array(lut.buffer);
    data.set(words, o + H.WORDS + H.WARP_TABLES * size);
  });
  return { data, slots };
}
