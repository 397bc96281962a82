// The four views as cartoons of their anatomy, in heart units (x right, y deeper; the probe
// is above). Each view's layout is what a sonographer recognises it by:
//   PLAX     long axis: thin RV on top, LV lying across the image, aortic root to the right
//            with the LA beneath it, bright septum and posterior wall.
//   PSAX-AV  round aortic valve in the middle with three leaflets (the "Mercedes" sign),
//            RVOT arching over it, LA below, RA to the left.
//   A4C      four chambers, vertical septum: ventricles on top (RV left, LV right), atria below.
//   A2C      two chambers stacked: LV on top, LA below, no septum.
// Every size and position is jittered per frame (and scaled per patient), so no single pixel
// pattern identifies a view; the arrangement does.

import type { Rng } from './rng.js';
import type { Shape } from './shapes.js';

/** Per-patient anatomy, fixed across that patient's frames. */
export interface PatientHeart {
  /** Overall heart size factor (~0.9..1.1). */
  size: number;
  /** LV size factor relative to the rest (~0.85..1.25; dilated hearts exist). */
  lv: number;
  /** Atrial size factor. */
  atria: number;
  /** Myocardium echogenicity (0..1). */
  myocardium: number;
}

export function drawPatientHeart(rng: Rng): PatientHeart {
  return {
    size: rng.range(0.9, 1.1),
    lv: rng.range(0.85, 1.25),
    atria: rng.range(0.85, 1.2),
    myocardium: rng.range(0.38, 0.55),
  };
}

interface Palette {
  blood: number;
  myo: number;
  bright: number;
  valve: number;
}

type Build = (rng: Rng, h: PatientHeart, p: Palette) => Shape[];

/** Helpers that jitter a nominal value: ±a absolute, or ×(1 ± f). */
function jitter(rng: Rng) {
  return {
    at: (x: number, a = 0.05) => x + rng.range(-a, a),
    by: (x: number, f = 0.12) => x * rng.range(1 - f, 1 + f),
  };
}

function envelope(rng: Rng, p: Palette, rx: number, ry: number): Shape[] {
  const { at, by } = jitter(rng);
  const e = { cx: at(0), cy: at(0.05), rx: by(rx, 0.06), ry: by(ry, 0.06), rot: at(0, 0.1) };
  return [
    { kind: 'ellipse', ...e, value: p.myo },
    // pericardium: the brightest reflector around the heart
    { kind: 'ring', ...e, width: at(0.07, 0.02), value: p.bright },
  ];
}

function leaflet(x0: number, y0: number, x1: number, y1: number, p: Palette, width = 0.045): Shape {
  return { kind: 'segment', x0, y0, x1, y1, width, value: p.valve };
}

const plax: Build = (rng, h, p) => {
  const { at, by } = jitter(rng);
  const lvH = by(0.25) * Math.sqrt(h.lv);
  const aoY = at(-0.14);
  const laR = by(0.26) * h.atria;
  return [
    ...envelope(rng, p, 1.2, 0.82),
    { kind: 'ellipse', cx: at(-0.1), cy: at(-0.52), rx: by(0.72), ry: by(0.15), rot: at(0, 0.08), value: p.blood }, // RV
    { kind: 'ellipse', cx: at(-0.28), cy: at(0.02), rx: by(0.62) * h.lv, ry: lvH, rot: at(0, 0.08), value: p.blood }, // LV
    { kind: 'segment', x0: at(-0.95), y0: at(-0.3), x1: at(0.42), y1: at(-0.27), width: by(0.1), value: p.myo * 1.2 }, // septum
    { kind: 'segment', x0: at(-0.9), y0: at(0.34), x1: at(0.35), y1: at(0.32), width: by(0.1), value: p.bright * 0.85 }, // posterior wall
    { kind: 'ellipse', cx: at(0.72), cy: aoY, rx: by(0.34), ry: by(0.13), rot: at(-0.1, 0.1), value: p.blood }, // aortic root
    leaflet(0.62, aoY - 0.1, 0.7, aoY, p), // aortic cusps
    leaflet(0.62, aoY + 0.1, 0.7, aoY, p),
    { kind: 'ellipse', cx: at(0.7), cy: at(0.36), rx: laR, ry: laR * by(0.85), rot: 0, value: p.blood }, // LA
    leaflet(at(0.38), at(0.06), at(0.2), at(0.16), p), // anterior mitral leaflet
    leaflet(at(0.4), at(0.3), at(0.24), at(0.24), p), // posterior mitral leaflet
  ];
};

const psaxAv: Build = (rng, h, p) => {
  const { at, by } = jitter(rng);
  const avR = by(0.29);
  const avX = at(0, 0.06);
  const avY = at(0, 0.06);
  const turn = at(0, 0.25); // the whole Mercedes sign may rotate a little
  const cusps: Shape[] = [Math.PI / 2, (7 * Math.PI) / 6, (11 * Math.PI) / 6].map((a) =>
    leaflet(avX, avY, avX + avR * Math.cos(a + turn), avY + avR * Math.sin(a + turn), p, 0.05),
  );
  const laR = by(0.5) * h.atria;
  return [
    ...envelope(rng, p, 1.05, 1.0),
    // RVOT arching over the valve from lower left, across the top, down the right
    { kind: 'ellipse', cx: at(-0.58), cy: at(-0.25), rx: by(0.19), ry: by(0.34), rot: at(0.5, 0.1), value: p.blood },
    { kind: 'ellipse', cx: at(0), cy: at(-0.62), rx: by(0.5), ry: by(0.17), rot: 0, value: p.blood },
    { kind: 'ellipse', cx: at(0.6), cy: at(-0.22), rx: by(0.17), ry: by(0.34), rot: at(-0.5, 0.1), value: p.blood },
    { kind: 'ellipse', cx: at(0), cy: at(0.64), rx: laR, ry: by(0.23), rot: at(0, 0.1), value: p.blood }, // LA
    { kind: 'ellipse', cx: at(-0.64), cy: at(0.3), rx: by(0.22) * h.atria, ry: by(0.28), rot: 0, value: p.blood }, // RA
    { kind: 'ellipse', cx: avX, cy: avY, rx: avR, ry: avR * by(0.92, 0.06), rot: 0, value: p.blood * 2 }, // valve orifice
    { kind: 'ring', cx: avX, cy: avY, rx: avR, ry: avR, rot: 0, width: by(0.06), value: p.valve }, // annulus
    ...cusps,
  ];
};

const a4c: Build = (rng, h, p) => {
  const { at, by } = jitter(rng);
  const valveY = at(0.24, 0.04);
  return [
    ...envelope(rng, p, 1.05, 1.12),
    { kind: 'ellipse', cx: at(-0.43), cy: at(-0.3), rx: by(0.28), ry: by(0.52), rot: at(-0.15, 0.08), value: p.blood }, // RV
    { kind: 'ellipse', cx: at(0.41), cy: at(-0.3), rx: by(0.32) * h.lv, ry: by(0.6) * h.lv, rot: at(0.1, 0.08), value: p.blood }, // LV
    { kind: 'ellipse', cx: at(-0.42), cy: at(0.58), rx: by(0.29) * h.atria, ry: by(0.26) * h.atria, rot: 0, value: p.blood }, // RA
    { kind: 'ellipse', cx: at(0.42), cy: at(0.6), rx: by(0.31) * h.atria, ry: by(0.26) * h.atria, rot: 0, value: p.blood }, // LA
    // septum: vertical and bright, the crux where it meets the valve plane
    { kind: 'segment', x0: at(0, 0.03), y0: at(-0.85), x1: at(0, 0.03), y1: at(0.85), width: by(0.09), value: p.myo * 1.25 },
    leaflet(-0.7, valveY, -0.5, valveY + 0.1, p), // tricuspid
    leaflet(-0.12, valveY, -0.28, valveY + 0.1, p),
    leaflet(0.72, valveY, 0.52, valveY + 0.1, p), // mitral
    leaflet(0.12, valveY, 0.3, valveY + 0.1, p),
  ];
};

const a2c: Build = (rng, h, p) => {
  const { at, by } = jitter(rng);
  const valveY = at(0.3, 0.04);
  return [
    ...envelope(rng, p, 0.85, 1.12),
    { kind: 'ellipse', cx: at(0), cy: at(-0.28), rx: by(0.42) * h.lv, ry: by(0.64) * h.lv, rot: at(0, 0.1), value: p.blood }, // LV
    { kind: 'ellipse', cx: at(0), cy: at(0.62), rx: by(0.4) * h.atria, ry: by(0.28) * h.atria, rot: at(0, 0.1), value: p.blood }, // LA
    leaflet(-0.45, valveY, -0.16, valveY + 0.12, p), // mitral leaflets
    leaflet(0.45, valveY, 0.16, valveY + 0.12, p),
  ];
};

/** Builders indexed like the canonical classes: PLAX, PSAX-AV, A2C, A4C. */
const BUILDERS: readonly Build[] = [plax, psaxAv, a2c, a4c];

/** Shapes of one frame of `view` (canonical class index), heart units. */
export function viewShapes(view: number, rng: Rng, heart: PatientHeart): Shape[] {
  const build = BUILDERS[view];
  if (!build) throw new RangeError(`view ${view} outside 0..${BUILDERS.length - 1}`);
  const palette: Palette = {
    blood: rng.range(0.03, 0.12),
    myo: heart.myocardium * rng.range(0.9, 1.1),
    bright: rng.range(0.85, 1),
    valve: rng.range(0.7, 0.95),
  };
  return build(rng, heart, palette);
}
