// Renders one synthetic echo frame and its sector mask from a sample plan entry: sector
// geometry with per-frame jitter, tissue and view anatomy, acoustic effects, speckle, blur and
// display compression inside the sector; scanner metadata outside it.

import { applyAcoustics, drawAcoustics } from './acoustics.js';
import { viewShapes, type PatientHeart } from './anatomy.js';
import { drawBackground } from './background.js';
import { hashSeed, Rng } from './rng.js';
import { fromPolar, sectorMask, type SectorGeometry } from './sector.js';
import { paintShapes, type HeartPose, type Shape } from './shapes.js';
import type { SiteSpec } from './sites.js';
import { gaussianBlur, speckleField } from './speckle.js';

/** One planned sample (what to draw); see plan.ts. */
export interface SampleSpec {
  index: number;
  id: string;
  split: string;
  site: SiteSpec;
  patient: number;
  heart: PatientHeart;
  /** Canonical class index of the view. */
  view: number;
  /** Class the background cue points to (equals `view` with probability shortcutStrength in i.d. sites). */
  cueClass: number;
  /** A deliberately degraded frame (see acoustics.ts). */
  hard: boolean;
}

export interface RenderedSample {
  /** image: [size, size] u8 grey. */
  image: Uint8Array;
  /** mask: [size, size] u8, 1 inside the sector. */
  mask: Uint8Array;
  geometry: SectorGeometry;
  pose: HeartPose;
  /** Imaging depth setting in cm; sets anatomy scale and tick spacing. */
  depthCm: number;
  gain: number;
}

function jitteredGeometry(site: SiteSpec, size: number, rng: Rng): SectorGeometry {
  const g = site.geometry;
  return {
    apexX: g.apexX * size + rng.range(-1.5, 1.5) * (size / 112),
    apexY: g.apexY * size + rng.range(-1, 1) * (size / 112),
    halfAngle: ((g.halfAngleDeg + rng.range(-1.5, 1.5)) * Math.PI) / 180,
    radius: g.radius * size * rng.range(0.97, 1.03),
    innerRadius: g.innerRadius * size,
  };
}

/** Soft low-frequency variation of tissue brightness, so the surroundings are not flat. field: [size, size] f32. */
function tissue(size: number, rng: Rng): Float32Array {
  const f = new Float32Array(size * size).fill(rng.range(0.22, 0.38));
  for (let k = 0; k < 5; k++) {
    const cx = rng.range(0, size);
    const cy = rng.range(0, size);
    const sd = rng.range(0.07, 0.18) * size;
    const amp = rng.range(-0.12, 0.15);
    // a Gaussian blob is separable: exp(-(dx²+dy²)/2s²) = gx(x) · gy(y)
    const gx = new Float32Array(size);
    const gy = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      gx[i] = Math.exp(-((i - cx) ** 2) / (2 * sd * sd));
      gy[i] = amp * Math.exp(-((i - cy) ** 2) / (2 * sd * sd));
    }
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) f[y * size + x] += gy[y]! * gx[x]!;
  }
  for (let i = 0; i < f.length; i++) f[i] = Math.max(0.02, f[i]!);
  return f;
}

/**
 * Dark blobs in the tissue (vessels, effusion, lung) that look like chambers on their own, so
 * a model must read the arrangement, not just find dark regions. Painted before the heart,
 * which covers any that fall inside it. Shapes in pixel coordinates.
 */
function distractors(g: SectorGeometry, rng: Rng): Shape[] {
  return Array.from({ length: rng.int(4) }, () => {
    const p = fromPolar(g, g.radius * rng.range(0.15, 0.95), g.halfAngle * rng.range(-0.9, 0.9));
    const r = g.radius * rng.range(0.03, 0.09);
    return { kind: 'ellipse', cx: p.x, cy: p.y, rx: r * rng.range(0.6, 1.6), ry: r, rot: rng.range(0, Math.PI), value: rng.range(0.04, 0.2) };
  });
}

/** Draws sample `spec` at size × size; the same (seed, spec) always gives the same pixels. */
export function renderSample(spec: SampleSpec, seed: number, size: number): RenderedSample {
  const rng = new Rng(hashSeed(seed, 'sample', spec.index));
  const geometry = jitteredGeometry(spec.site, size, rng);
  const mask = sectorMask(geometry, size);

  // depth setting: deeper imaging shows the same heart smaller
  const depthCm = rng.range(12, 19);
  const pxPerCm = geometry.radius / depthCm;
  const axis = rng.range(-0.12, 0.12);
  const dist = geometry.radius * rng.range(0.45, 0.62);
  const pose: HeartPose = {
    cx: geometry.apexX + dist * Math.sin(axis),
    cy: geometry.apexY + dist * Math.cos(axis),
    scale: pxPerCm * 5 * spec.heart.size * rng.range(0.92, 1.08),
    rot: rng.range(-0.3, 0.3),
  };

  const field = tissue(size, rng);
  paintShapes(field, size, distractors(geometry, rng), { cx: 0, cy: 0, scale: 1, rot: 0 });
  paintShapes(field, size, viewShapes(spec.view, rng, spec.heart), pose);
  applyAcoustics(field, mask, size, geometry, drawAcoustics(rng, geometry, pose, spec.hard));

  const speckle = speckleField(size, rng, rng.pick([1, 1, 2, 3]), rng.range(0.5, 0.9));
  const noise = rng.range(0.005, 0.02);
  for (let i = 0; i < field.length; i++) {
    field[i] = mask[i] ? Math.max(0, field[i]! * speckle[i]! + noise * rng.normal()) : 0;
  }
  const shown = gaussianBlur(field, size, rng.range(0.45, 0.9));

  const gain = rng.range(0.8, 1.25);
  const gamma = rng.range(0.6, 0.85);
  const bg = new Float32Array(size * size);
  drawBackground(bg, size, spec.site, geometry, rng, spec.cueClass, pxPerCm);

  const image = new Uint8Array(size * size);
  for (let i = 0; i < image.length; i++) {
    image[i] = mask[i] ? Math.round(255 * Math.min(1, gain * shown[i]!) ** gamma) : Math.round(Math.min(255, bg[i]!));
  }
  return { image, mask, geometry, pose, depthCm, gain };
}
