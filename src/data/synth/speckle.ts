// Speckle and blur. Ultrasound speckle is multiplicative (interference of sub-resolution
// scatterers scales with local echogenicity), grainy over a couple of pixels, and the
// displayed image is slightly blurred by the system's point-spread function.

import type { Rng } from './rng.js';

/**
 * Separable Gaussian blur of field: [size, size] f32 (edges replicated); returns a new array.
 * sigma in pixels; sigma ≤ 0 returns a copy.
 */
export function gaussianBlur(field: Float32Array, size: number, sigma: number): Float32Array {
  if (!(sigma > 0)) return field.slice();
  const rad = Math.max(1, Math.ceil(2.5 * sigma));
  const k = new Float32Array(2 * rad + 1);
  let sum = 0;
  for (let i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(field.length);
  const out = new Float32Array(field.length);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let i = -rad; i <= rad; i++) acc += k[i + rad]! * field[row + Math.min(size - 1, Math.max(0, x + i))]!;
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let i = -rad; i <= rad; i++) acc += k[i + rad]! * tmp[Math.min(size - 1, Math.max(0, y + i)) * size + x]!;
      out[y * size + x] = acc;
    }
  }
  return out;
}

/**
 * Unit-mean speckle: [size, size] f32, Gamma(shape, 1/shape) per pixel (shape 1 is fully
 * developed Rayleigh-intensity speckle, larger is smoother), then blurred by `grain` pixels so
 * grains span a few pixels as in real B-mode.
 */
export function speckleField(size: number, rng: Rng, shape: number, grain: number): Float32Array {
  const n = new Float32Array(size * size);
  const k = Math.max(1, Math.round(shape));
  for (let i = 0; i < n.length; i++) {
    // Gamma(k) as a sum of k exponentials; 1 − u keeps log away from 0
    let s = 0;
    for (let j = 0; j < k; j++) s -= Math.log(1 - rng.float());
    n[i] = s / k;
  }
  return gaussianBlur(n, size, grain);
}
