// Launcher for shaders/gradcam.wgsl: GradCAM heatmaps for a batch, from the last conv stage's
// activation and its gradient, without reading anything back.
//
//   A, dA: [N,C,h,w] f32 NCHW — activation and d(target logit)/dA (each image's own target).
//   alpha  [N,C]   = spatial mean of dA                       (channel weights)
//   cam    [N,h,w] = ReLU(Σ_c alpha[n,c]·A[n,c])              (low-resolution map)
//   z      [N,H,W] = min-max normalised bilinear upsampling of cam, in [0,1]
//   valid  [N] u32 = 1, or 0 when the upsampled map is constant (max − min < minRange: e.g. a
//                    CAM that ReLU made all zero); z is then all zeros.
//
// Upsampling convention: exactly PyTorch's
//   F.interpolate(cam[:,None], size=(H,W), mode='bilinear', align_corners=False)
// (half-pixel centres, src = (h/H)·(Y + 0.5) − 0.5 clamped below at 0, last row/column
// replicated, no antialiasing). Normalisation follows upsampling, as in the usual GradCAM
// recipe the BackMix paper describes (z_p ∈ [0,1] per image); pure min-max, no epsilon, because
// the CAM's scale (that of the logit gradient) carries no meaning.
//
// Not differentiable (an evaluation-time analysis), so there is no backward.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { imageReductionWG } from './tuning.js';
import { grid1d } from './elementwise.js';
import { checkDims, checkDistinct, checkFloats } from './reduce.js';

export interface GradCamDims {
  N: number;
  C: number;
  /** Activation height and width. */
  h: number;
  w: number;
  /** Input (output heatmap) height and width. */
  H: number;
  W: number;
}

export interface GradCamOptions {
  /** Out: [N,C] f32 channel weights. Omitted = pooled scratch. */
  alpha?: BufferLike | null;
  /** Out: [N,h,w] f32 low-resolution CAM after ReLU. Omitted = pooled scratch. */
  cam?: BufferLike | null;
  /** Out: [N,2] f32 per image (min, max) of the upsampled CAM before normalisation. */
  range?: BufferLike | null;
  /**
   * An image whose upsampled CAM spans less than this is invalid (z = 0, valid = 0). Default
   * 2^-126, the smallest normal f32: smaller ranges may be flushed to zero by the GPU.
   */
  minRange?: number;
  label?: string;
}

/** Smallest normal f32, the default `minRange`. */
export const GRADCAM_MIN_RANGE = 2 ** -126;

/**
 * Encodes GradCAM for a batch: three dispatches (channel weights, weighted sum + ReLU, then
 * one workgroup per image for upsampling, min/max and normalisation). Writes z [N,H,W] f32 and
 * valid [N] u32; nothing is read back.
 */
export function gradCam(
  rt: Runtime, A: BufferLike, dA: BufferLike, z: BufferLike, valid: BufferLike,
  dims: GradCamDims, opts: GradCamOptions = {},
): void {
  const op = opts.label ?? 'gradcam';
  const { N, C, h, w, H, W } = dims;
  checkDims(op, { N, C, h, w, H, W });
  const maxWg = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (N > maxWg) throw new RangeError(`${op}: N = ${N} exceeds ${maxWg} (one workgroup per image)`);
  const minRange = opts.minRange ?? GRADCAM_MIN_RANGE;
  if (!(minRange >= 0) || !Number.isFinite(minRange)) throw new RangeError(`${op}: minRange must be finite and ≥ 0, got ${minRange}`);
  const hw = h * w;
  const act = `[N,C,h,w] = [${N},${C},${h},${w}]`;
  checkFloats(op, 'A', A, N * C * hw, act);
  checkFloats(op, 'dA', dA, N * C * hw, act);
  checkFloats(op, 'z', z, N * H * W, `[N,H,W] = [${N},${H},${W}]`);
  checkFloats(op, 'valid', valid, N, `[N] = [${N}]`);
  if (opts.alpha) checkFloats(op, 'alpha', opts.alpha, N * C, `[N,C] = [${N},${C}]`);
  if (opts.cam) checkFloats(op, 'cam', opts.cam, N * hw, `[N,h,w] = [${N},${h},${w}]`);
  if (opts.range) checkFloats(op, 'range', opts.range, 2 * N, `[N,2] = [${N},2]`);
  // Outputs must not alias each other or the inputs (WebGPU forbids a writable binding that
  // aliases another binding of the same dispatch, and the results would be garbage anyway).
  checkDistinct(op, { A, z, valid, alpha: opts.alpha, cam: opts.cam, range: opts.range });
  checkDistinct(op, { dA, z, valid, alpha: opts.alpha, cam: opts.cam, range: opts.range });

  const scratch: PooledBuffer[] = [];
  const orScratch = (b: BufferLike | null | undefined, count: number, name: string): BufferLike => {
    if (b) return b;
    const s = rt.allocF32(count, `${op}.${name}`);
    scratch.push(s);
    return s;
  };
  const alpha = orScratch(opts.alpha, N * C, 'alpha');
  const cam = orScratch(opts.cam, N * hw, 'cam');
  const range = orScratch(opts.range, 2 * N, 'range');

  const WG = imageReductionWG(rt.gpu.info.kind);
  const v4 = hw % 4 === 0;
  // Math.fround of the float64 quotient is the correctly rounded f32 division PyTorch does.
  const p = { N, C, hw: v4 ? hw / 4 : hw, h, w, H, W, inv_hw: 1 / hw, scale_y: h / H, scale_x: w / W, min_range: minRange };
  const shape = `${N}x${C}x${h}x${w}`;

  rt.dispatch({
    label: `${op} alpha ${shape}`,
    shader: 'gradcam.wgsl',
    entry: v4 ? 'gc_alpha_v4' : 'gc_alpha',
    constants: { WG },
    params: p,
    bindings: { [v4 ? 'dA4' : 'dA']: dA, alpha_out: alpha },
    workgroups: grid1d(N * C, WG, maxWg),
  });
  rt.dispatch({
    label: `${op} cam ${shape}`,
    shader: 'gradcam.wgsl',
    entry: v4 ? 'gc_cam_v4' : 'gc_cam',
    constants: { WG },
    params: p,
    bindings: { [v4 ? 'A4' : 'A']: A, alpha_in: alpha, cam_out: cam },
    workgroups: grid1d(N * (v4 ? hw / 4 : hw), WG, maxWg),
  });
  rt.dispatch({
    label: `${op} upsample+normalise ${shape}->${H}x${W}`,
    shader: 'gradcam.wgsl',
    entry: 'gc_upsample_norm',
    constants: { WG },
    params: p,
    bindings: { cam_in: cam, z, minmax: range, valid },
    workgroups: [N],
  });
  for (const s of scratch) rt.release(s);
}
