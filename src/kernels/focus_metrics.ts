// Launcher for shaders/focus_metrics.wgsl: the BackMix paper's %E and %F (§2.4), computed on
// the GPU so an evaluation reads back 8 floats per batch, or once at the end with `accumulate`.
//
//   z:    [N,H,W] f32 GradCAM heatmaps in [0,1] (gradCam's output; [N,1,H,W] is the same layout)
//   mask: [N,H,W] f32 sector masks, inside iff > 0.5 (the 0/1 f32 masks preprocessing writes)
//   E_n = Σ_{p∈mask} z_p / Σ_p z_p
//   F_n = |{z_p > 0.5} ∩ mask| / |{z_p > 0.5}|
//   %E = 100·mean_n E_n, %F = 100·mean_n F_n — the paper averages per image, not per pixel.
// Images whose CAM carries no focus (valid[n] = 0, Σz = 0, or for F no z_p > 0.5) are left out
// of the mean and counted as excluded; include[n] = 0 skips an image altogether (no mask).
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { imageReductionWG } from './tuning.js';
import { checkDims, checkDistinct, checkFloats } from './reduce.js';
import { shaderConst } from './shader_layout.js';

const fm = (name: string) => shaderConst('focus_metrics.wgsl', name);

/** Length of the stats buffer (f32). */
export const FOCUS_STATS_LENGTH = fm('STATS_LEN');

/** per-image value of an image excluded from a metric. */
export const FOCUS_EXCLUDED = fm('EXCLUDED');
/** per-image value (both metrics) of an image with include[n] = 0. */
export const FOCUS_SKIPPED = fm('SKIPPED');

/** Where each total sits in the stats buffer. */
const ST = {
  SUM_E: fm('ST_SUM_E'), COUNT_E: fm('ST_COUNT_E'), SUM_F: fm('ST_SUM_F'), COUNT_F: fm('ST_COUNT_F'),
  EXCLUDED_E: fm('ST_EXCLUDED_E'), EXCLUDED_F: fm('ST_EXCLUDED_F'), SKIPPED: fm('ST_SKIPPED'), IMAGES: fm('ST_IMAGES'),
};

export interface FocusMetricsBuffers {
  /** [N,H,W] f32 in [0,1]. */
  z: BufferLike;
  /** [N,H,W] f32 0/1 (inside iff > 0.5). */
  mask: BufferLike;
  /**
   * Out: f32 [8] = [Σ E_n, count_E, Σ F_n, count_F, excluded_E, excluded_F, skipped, images].
   * Overwritten, or added to with `accumulate`.
   */
  stats: BufferLike;
  /** [N] u32 from gradCam: 0 excludes the image from both metrics. Omitted = all valid. */
  valid?: BufferLike | null;
  /** [N] u32: 0 skips the image (not counted as excluded). Omitted = all included. */
  include?: BufferLike | null;
  /** Out: [N,2] f32 (E_n, F_n) per image; −1 excluded, −2 skipped. Omitted = pooled scratch. */
  perImage?: BufferLike | null;
}

export interface FocusMetricsOptions {
  N: number;
  H: number;
  W: number;
  /** Add into `stats` (totals over an evaluation, read once) instead of overwriting it. */
  accumulate?: boolean;
  label?: string;
}

/** Encodes the per-image metrics (one workgroup per image) and the batch reduction. */
export function focusMetrics(rt: Runtime, bufs: FocusMetricsBuffers, o: FocusMetricsOptions): void {
  const op = o.label ?? 'focus_metrics';
  const { N, H, W } = o;
  checkDims(op, { N, H, W });
  const maxWg = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (N > maxWg) throw new RangeError(`${op}: N = ${N} exceeds ${maxWg} (one workgroup per image)`);
  const P = H * W;
  const img = `[N,H,W] = [${N},${H},${W}]`;
  checkFloats(op, 'z', bufs.z, N * P, img);
  checkFloats(op, 'mask', bufs.mask, N * P, img);
  checkFloats(op, 'stats', bufs.stats, FOCUS_STATS_LENGTH, `[${FOCUS_STATS_LENGTH}]`);
  if (bufs.valid) checkFloats(op, 'valid', bufs.valid, N, `[N] = [${N}]`);
  if (bufs.include) checkFloats(op, 'include', bufs.include, N, `[N] = [${N}]`);
  if (bufs.perImage) checkFloats(op, 'perImage', bufs.perImage, 2 * N, `[N,2] = [${N},2]`);
  checkDistinct(op, { z: bufs.z, perImage: bufs.perImage, stats: bufs.stats });
  checkDistinct(op, { mask: bufs.mask, perImage: bufs.perImage, stats: bufs.stats });
  checkDistinct(op, { valid: bufs.valid, include: bufs.include, perImage: bufs.perImage, stats: bufs.stats });

  const scratch: PooledBuffer[] = [];
  let perImage = bufs.perImage;
  if (!perImage) {
    const s = rt.allocF32(2 * N, `${op}.per-image`);
    scratch.push(s);
    perImage = s;
  }
  // With HAS_VALID / HAS_INCLUDE off the shader never reads these, but an override-guarded
  // access is still a static use, so layout 'auto' keeps the binding: a 1-element stand-in.
  const standIn = (b: BufferLike | null | undefined, name: string): BufferLike => {
    if (b) return b;
    const s = rt.allocF32(1, `${op}.unused-${name}`);
    scratch.push(s);
    return s;
  };
  const valid = standIn(bufs.valid, 'valid');
  const include = standIn(bufs.include, 'include');
  const WG = imageReductionWG(rt.gpu.info.kind);
  const v4 = P % 4 === 0;
  const params = { N, P };
  rt.dispatch({
    label: `${op} per-image ${N}x${H}x${W}`,
    shader: 'focus_metrics.wgsl',
    entry: v4 ? 'fm_image_v4' : 'fm_image',
    constants: { WG, HAS_VALID: !!bufs.valid, HAS_INCLUDE: !!bufs.include },
    params,
    bindings: { [v4 ? 'z4' : 'z']: bufs.z, [v4 ? 'm4' : 'm']: bufs.mask, valid, use_image: include, per_image: perImage },
    workgroups: [N],
  });
  rt.dispatch({
    label: `${op} batch ${N}`,
    shader: 'focus_metrics.wgsl',
    entry: 'fm_batch',
    constants: { WG, ACCUMULATE: !!o.accumulate },
    params,
    bindings: { per_in: perImage, stats: bufs.stats },
    workgroups: [1],
  });
  for (const s of scratch) rt.release(s);
}

/** Host view of the stats buffer: the paper's %E and %F with what went into them. */
export interface FocusSummary {
  /** 100·mean E_n over imagesE images; NaN when imagesE = 0. */
  percentE: number;
  percentF: number;
  imagesE: number;
  imagesF: number;
  /** Images left out of %E / %F because their CAM had no focus (constant CAM, Σz = 0, no z > 0.5). */
  excludedE: number;
  excludedF: number;
  /** Images skipped by `include` (no sector mask). */
  skipped: number;
  /** Images seen, skipped ones included. */
  images: number;
}

export function focusSummary(stats: ArrayLike<number>): FocusSummary {
  if (stats.length < FOCUS_STATS_LENGTH) throw new RangeError(`focusSummary: stats holds ${stats.length} values, need ${FOCUS_STATS_LENGTH}`);
  const imagesE = Math.round(stats[ST.COUNT_E]!);
  const imagesF = Math.round(stats[ST.COUNT_F]!);
  return {
    percentE: imagesE > 0 ? (100 * stats[ST.SUM_E]!) / imagesE : NaN,
    percentF: imagesF > 0 ? (100 * stats[ST.SUM_F]!) / imagesF : NaN,
    imagesE,
    imagesF,
    excludedE: Math.round(stats[ST.EXCLUDED_E]!),
    excludedF: Math.round(stats[ST.EXCLUDED_F]!),
    skipped: Math.round(stats[ST.SKIPPED]!),
    images: Math.round(stats[ST.IMAGES]!),
  };
}
