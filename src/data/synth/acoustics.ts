// What the ultrasound physics does to the echogenicity map before display: depth attenuation
// with partial time-gain compensation, near-field clutter, weaker edges of the fan, acoustic
// shadows behind strong reflectors (ribs, calcium), and dropout where the wall is parallel to
// the beam. Shadows and dropout hide anatomy on purpose, so that even a perfect model cannot
// read every frame — the benchmark should top out around 90–97%, as real data does.

import type { Rng } from './rng.js';
import { toPolar, type SectorGeometry } from './sector.js';
import type { HeartPose } from './shapes.js';

/** A wedge of beams darkened beyond a depth (angles in radians, lengths in pixels). */
export interface Shadow {
  theta: number;
  halfWidth: number;
  start: number;
  /** Fraction of echo that still gets through (0 = black). */
  transmission: number;
}

/** A soft elliptical patch of lost signal (pixels). */
export interface Dropout {
  x: number;
  y: number;
  rx: number;
  ry: number;
  transmission: number;
}

export interface Acoustics {
  /** Attenuation exponent per sector radius. */
  attenuation: number;
  /** Linear time-gain compensation per sector radius (undoes part of the attenuation). */
  tgc: number;
  /** Near-field clutter strength added at the apex. */
  haze: number;
  shadows: Shadow[];
  dropouts: Dropout[];
  /** True for deliberately degraded frames (a big shadow or lost window over the heart). */
  hard: boolean;
}

/**
 * Draws a frame's acoustic conditions. `hard` frames get a wide, dense shadow across the heart
 * centre or a large dropout over it, which leaves the view genuinely ambiguous.
 */
export function drawAcoustics(rng: Rng, g: SectorGeometry, heart: HeartPose, hard: boolean): Acoustics {
  const shadows: Shadow[] = [];
  const dropouts: Dropout[] = [];
  const nShadows = rng.pick([0, 0, 1, 1, 2]);
  for (let i = 0; i < nShadows; i++) {
    shadows.push({
      theta: rng.range(-g.halfAngle, g.halfAngle),
      halfWidth: (rng.range(2, 5) * Math.PI) / 180,
      start: g.radius * rng.range(0.2, 0.75),
      transmission: rng.range(0.15, 0.5),
    });
  }
  const nDrop = rng.pick([0, 1, 1, 2]);
  for (let i = 0; i < nDrop; i++) {
    dropouts.push({
      x: heart.cx + rng.range(-1, 1) * heart.scale,
      y: heart.cy + rng.range(-1, 1) * heart.scale,
      rx: heart.scale * rng.range(0.12, 0.3),
      ry: heart.scale * rng.range(0.12, 0.3),
      transmission: rng.range(0.2, 0.55),
    });
  }
  if (hard) {
    const heartTheta = toPolar(g, heart.cx, heart.cy).theta;
    if (rng.chance(0.6)) {
      shadows.push({
        theta: heartTheta + rng.range(-0.1, 0.1),
        halfWidth: (rng.range(16, 26) * Math.PI) / 180,
        start: Math.max(g.innerRadius, Math.hypot(heart.cx - g.apexX, heart.cy - g.apexY) - heart.scale * rng.range(0.6, 1)),
        transmission: rng.range(0.02, 0.08),
      });
    } else {
      dropouts.push({
        x: heart.cx + rng.range(-0.15, 0.15) * heart.scale,
        y: heart.cy + rng.range(-0.15, 0.15) * heart.scale,
        rx: heart.scale * rng.range(0.9, 1.2),
        ry: heart.scale * rng.range(0.9, 1.2),
        transmission: rng.range(0.03, 0.08),
      });
    }
  }
  return {
    attenuation: rng.range(0.5, 1.3),
    tgc: rng.range(0.2, 0.8),
    haze: rng.range(0, 0.3),
    shadows,
    dropouts,
    hard,
  };
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Applies `a` in place to field: [size, size] f32 echogenicity, only where mask = 1. */
export function applyAcoustics(field: Float32Array, mask: Uint8Array, size: number, g: SectorGeometry, a: Acoustics): void {
  const soft = (1.5 * Math.PI) / 180;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (!mask[i]) continue;
      const { r, theta } = toPolar(g, x + 0.5, y + 0.5);
      const depth = r / g.radius;
      let f = Math.exp(-a.attenuation * depth) * (1 + a.tgc * depth);
      // beams at the edge of the fan are weaker
      f *= 1 - 0.35 * smoothstep(0.75, 1, Math.abs(theta) / g.halfAngle);
      for (const s of a.shadows) {
        const inWedge = 1 - smoothstep(s.halfWidth - soft, s.halfWidth + soft, Math.abs(theta - s.theta));
        const beyond = smoothstep(s.start, s.start + 4, r);
        f *= 1 - (1 - s.transmission) * inWedge * beyond;
      }
      for (const d of a.dropouts) {
        const q = ((x + 0.5 - d.x) / d.rx) ** 2 + ((y + 0.5 - d.y) / d.ry) ** 2;
        f *= 1 - (1 - d.transmission) * Math.exp(-q);
      }
      field[i] = field[i]! * f + a.haze * Math.exp(-r / (0.1 * g.radius));
    }
  }
}
