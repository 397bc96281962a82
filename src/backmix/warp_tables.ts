// OpenCV's fixed-point warpAffine, as albumentations' Rotate(30, interpolation=INTER_CUBIC,
// border_mode=BORDER_REPLICATE) runs it on uint8 frames (OpenCV 4.10, imgwarp.cpp). The GPU
// reproduces it bit for bit from these host-computed pieces:
//
// Convention: pixel centres at integer coordinates; rotation about ((S/2 − 0.5), (S/2 − 0.5)),
// i.e. the centre of the pixel grid (albumentations' `center`); a positive angle turns the
// image counter-clockwise on screen (cv2.getRotationMatrix2D), so +90° equals np.rot90(img).
// For output pixel (x, y) OpenCV inverts the matrix in double precision and computes, with
// AB_BITS = 10 and INTER_BITS = 5,
//   X = (cvRound((M1·y + M2)·1024) + 16 + cvRound(M0·x·1024)) >> 5     (source x in 1/32 px)
//   Y = (cvRound((M4·y + M5)·1024) + 16 + cvRound(M3·x·1024)) >> 5
// then reads the 4×4 neighbourhood at (X>>5) − 1 .. +2 (indices clamped: BORDER_REPLICATE)
// with 16 integer weights (scaled by 2^15) tabulated for the fractional position
// (Y & 31, X & 31), and writes clamp((Σ w·v + 2^14) >> 15, 0, 255). The weights are the
// Keys cubic with a = −0.75 evaluated in float32 at k/32, outer product, rounded half-to-even,
// then nudged so each 4×4 sums to exactly 2^15 (initInterTab2D). Masks use INTER_NEAREST:
//   Xn = (cvRound((M1·y + M2)·1024) + 512 + cvRound(M0·x·1024)) >> 10, clamped to the image.
// The rows below hold the double-precision parts (the GPU has no f64), so GPU and OpenCV agree
// exactly.

import { shaderConst } from '../kernels/shader_layout.js';

export const INTER_BITS = 5;
export const INTER_TAB_SIZE = 1 << INTER_BITS;
export const AB_BITS = 10;
export const AB_SCALE = 1 << AB_BITS;
export const COEF_BITS = 15;
export const COEF_SCALE = 1 << COEF_BITS;

/** cvRound: round half to even (SSE2 cvtsd2si in the default rounding mode). */
export function cvRound(v: number): number {
  const r = Math.round(v);
  // Math.round rounds ties up; OpenCV rounds ties to even.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f32 = Math.fround;

/** OpenCV's interpolateCubic in float32 (A = −0.75). */
export function cubicCoeffsF32(x: number): [number, number, number, number] {
  const A = -0.75;
  const x1 = f32(x + 1);
  const c0 = f32(f32(f32(f32(f32(f32(A * x1) - f32(5 * A)) * x1) + f32(8 * A)) * x1) - f32(4 * A));
  const c1 = f32(f32(f32(f32(f32(f32((A + 2) * x) - (A + 3)) * x) * x) + 1));
  const omx = f32(1 - x);
  const c2 = f32(f32(f32(f32(f32(f32((A + 2) * omx) - (A + 3)) * omx) * omx) + 1));
  const c3 = f32(f32(f32(1 - c0) - c1) - c2);
  return [c0, c1, c2, c3];
}

let cubicTab: Int32Array | null = null;

/**
 * OpenCV's fixed-point bicubic table: [32·32][16] i32, entry (fy·32 + fx)·16 + ky·4 + kx is
 * the weight of source pixel (sy + ky, sx + kx) for fractional position (fy/32, fx/32).
 */
export function cubicTable(): Int32Array {
  if (cubicTab) return cubicTab;
  const one = Array.from({ length: INTER_TAB_SIZE }, (_, i) => cubicCoeffsF32(i * (1 / INTER_TAB_SIZE)));
  const tab = new Int32Array(INTER_TAB_SIZE * INTER_TAB_SIZE * 16);
  for (let i = 0; i < INTER_TAB_SIZE; i++) {
    for (let j = 0; j < INTER_TAB_SIZE; j++) {
      const it = tab.subarray((i * INTER_TAB_SIZE + j) * 16, (i * INTER_TAB_SIZE + j + 1) * 16);
      let isum = 0;
      for (let k1 = 0; k1 < 4; k1++) {
        const vy = one[i]![k1]!;
        for (let k2 = 0; k2 < 4; k2++) {
          const v = f32(vy * one[j]![k2]!);
          const q = Math.max(-32768, Math.min(32767, cvRound(f32(v * COEF_SCALE))));
          it[k1 * 4 + k2] = q;
          isum += q;
        }
      }
      if (isum !== COEF_SCALE) {
        const diff = isum - COEF_SCALE;
        let mk1 = 2, mk2 = 2, Mk1 = 2, Mk2 = 2;
        for (let k1 = 2; k1 < 4; k1++) {
          for (let k2 = 2; k2 < 4; k2++) {
            if (it[k1 * 4 + k2]! < it[mk1 * 4 + mk2]!) {
              mk1 = k1;
              mk2 = k2;
            } else if (it[k1 * 4 + k2]! > it[Mk1 * 4 + Mk2]!) {
              Mk1 = k1;
              Mk2 = k2;
            }
          }
        }
        if (diff < 0) it[Mk1 * 4 + Mk2] = it[Mk1 * 4 + Mk2]! - diff;
        else it[mk1 * 4 + mk2] = it[mk1 * 4 + mk2]! - diff;
      }
    }
  }
  cubicTab = tab;
  return tab;
}

/** cv2.getRotationMatrix2D(((S/2 − 0.5), (S/2 − 0.5)), angle, 1): the forward 2×3 matrix. */
export function rotationMatrix(size: number, angleDeg: number): number[] {
  const c = f32(size / 2 - 0.5); // Point2f centre
  const a = (angleDeg * Math.PI) / 180;
  const alpha = Math.cos(a);
  const beta = Math.sin(a);
  return [alpha, beta, (1 - alpha) * c - beta * c, -beta, alpha, beta * c + (1 - alpha) * c];
}

/** warpAffine's in-place inversion of a forward 2×3 matrix (double precision). */
export function invertAffine(m: readonly number[]): number[] {
  let D = m[0]! * m[4]! - m[1]! * m[3]!;
  D = D !== 0 ? 1 / D : 0;
  const A11 = m[4]! * D;
  const A22 = m[0]! * D;
  const M0 = A11;
  const M1 = m[1]! * -D;
  const M3 = m[3]! * -D;
  const M4 = A22;
  const b1 = -M0 * m[2]! - M1 * m[5]!;
  const b2 = -M3 * m[2]! - M4 * m[5]!;
  return [M0, M1, b1, M3, M4, b2];
}

/** Which of the S-word tables is which, as shaders/augment_sample.wgsl reads them. */
const warp = (name: string) => shaderConst('augment_sample.wgsl', `WARP_${name}`);
const WARP = { X0: warp('X0'), Y0: warp('Y0'), ADELTA: warp('ADELTA'), BDELTA: warp('BDELTA'), TABLES: warp('TABLES') };

/**
 * The double-precision parts of warpAffine's source coordinates for a rotation by `angleDeg`:
 * rows: [4][S] i32 = X0[y], Y0[y] (without round_delta), adelta[x], bdelta[x] (in the shader's
 * table order), written into `out` at `offset`.
 */
export function warpRows(size: number, angleDeg: number, out?: Int32Array, offset = 0): Int32Array {
  const rows = out ?? new Int32Array(WARP.TABLES * size);
  const M = invertAffine(rotationMatrix(size, angleDeg));
  for (let t = 0; t < size; t++) {
    rows[offset + WARP.X0 * size + t] = cvRound((M[1]! * t + M[2]!) * AB_SCALE);
    rows[offset + WARP.Y0 * size + t] = cvRound((M[4]! * t + M[5]!) * AB_SCALE);
    rows[offset + WARP.ADELTA * size + t] = cvRound(M[0]! * t * AB_SCALE);
    rows[offset + WARP.BDELTA * size + t] = cvRound(M[3]! * t * AB_SCALE);
  }
  return rows;
}
