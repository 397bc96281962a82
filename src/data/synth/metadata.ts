// Drawing scanner metadata: text-like glyph blocks, an ECG trace, depth ticks, a logo and a
// grey bar. All draw into a background layer bg: [size, size] f32 grey levels 0..255 by taking
// the maximum with what is there (overlays on a black background add light, never remove it).
// Positions are in pixels of the output image; `unit` scales glyph pixels for sizes above 112.

import { hashSeed, Rng } from './rng.js';
import { fromPolar, type SectorGeometry } from './sector.js';

/** A bitmap font: glyphs[i] is a w × h array of 0/1, row-major. */
export interface GlyphFont {
  w: number;
  h: number;
  glyphs: Uint8Array[];
}

/**
 * Typefaces: 'plain' is random cells (about half lit); the others have a structure that shows
 * as a texture over a block of text, the way a scanner's typeface does: 'stems' vertical
 * strokes, 'bars' horizontal strokes, 'boxes' outlined cells, 'dots' a sparse checkerboard.
 */
export type Typeface = 'plain' | 'stems' | 'bars' | 'boxes' | 'dots';

function structuredGlyph(face: Typeface, w: number, h: number, rng: Rng): Uint8Array {
  const g = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let p: number;
      if (face === 'stems') p = x === 0 || x === w - 1 ? 0.9 : 0.15;
      else if (face === 'bars') p = y % 2 === 0 ? 0.9 : 0.1;
      else if (face === 'boxes') p = x === 0 || y === 0 || x === w - 1 || y === h - 1 ? 0.95 : 0.1;
      else if (face === 'dots') p = (x + y) % 2 === 0 ? 0.8 : 0;
      else p = 0.5;
      g[y * w + x] = rng.chance(p) ? 1 : 0;
    }
  }
  return g;
}

/**
 * A random but fixed font of `count` glyphs, each w × h cells of 0/1. 'plain' glyphs are
 * distinct and 30–75% lit; structured faces may repeat glyphs (a 3×5 box has few variants).
 */
export function makeFont(seed: number, count: number, w: number, h: number, face: Typeface = 'plain'): GlyphFont {
  const rng = new Rng(hashSeed('font', seed, face));
  const glyphs: Uint8Array[] = [];
  const seen = new Set<string>();
  while (glyphs.length < count) {
    const g = structuredGlyph(face, w, h, rng);
    const on = g.reduce((a, b) => a + b, 0);
    if (on === 0) continue;
    if (face === 'plain') {
      const key = g.join('');
      if (on < g.length * 0.3 || on > g.length * 0.75 || seen.has(key)) continue;
      seen.add(key);
    }
    glyphs.push(g);
  }
  return { w, h, glyphs };
}

/**
 * Body-marker pictograms (the probe-position icon a sonographer picks for each view), as
 * MARKER_SIZE² bitmaps. Shapes, not positions, tell them apart, so they stay distinct under
 * the training rotation (±30°) and flip.
 */
export type MarkerShape = 'disc' | 'ring' | 'cross' | 'square';
export const MARKER_SIZE = 13;

export function markerBitmap(shape: MarkerShape): Uint8Array {
  const n = MARKER_SIZE;
  const c = (n - 1) / 2;
  const bits = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const r = Math.hypot(x - c, y - c);
      const dx = Math.abs(x - c);
      const dy = Math.abs(y - c);
      let on: boolean;
      if (shape === 'disc') on = r <= c;
      else if (shape === 'ring') on = r <= c && r >= c - 2;
      else if (shape === 'cross') on = dx <= 1 || dy <= 1;
      else on = Math.max(dx, dy) >= c - 1;
      bits[y * n + x] = on ? 1 : 0;
    }
  }
  return bits;
}

/** A left-right symmetric random bitmap (identicon-like), w × h of 0/1. */
export function makeLogo(seed: number, w: number, h: number): Uint8Array {
  const rng = new Rng(hashSeed('logo', seed));
  const out = new Uint8Array(w * h);
  const half = Math.ceil(w / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < half; x++) {
      const v = rng.chance(0.55) ? 1 : 0;
      out[y * w + x] = v;
      out[y * w + (w - 1 - x)] = v;
    }
  }
  return out;
}

function plot(bg: Float32Array, size: number, x: number, y: number, value: number): void {
  if (x < 0 || y < 0 || x >= size || y >= size) return;
  const i = y * size + x;
  if (bg[i]! < value) bg[i] = value;
}

/** Draws a w × h 0/1 bitmap with its top-left at (x, y), each cell unit × unit pixels. */
export function drawBitmap(
  bg: Float32Array,
  size: number,
  bits: Uint8Array,
  w: number,
  h: number,
  x: number,
  y: number,
  value: number,
  unit = 1,
): void {
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (!bits[j * w + i]) continue;
      for (let dy = 0; dy < unit; dy++) for (let dx = 0; dx < unit; dx++) plot(bg, size, x + i * unit + dx, y + j * unit + dy, value);
    }
  }
}

/** One line of glyphs (indices into the font) with one blank column between glyphs. */
export function drawText(
  bg: Float32Array,
  size: number,
  font: GlyphFont,
  glyphs: readonly number[],
  x: number,
  y: number,
  value: number,
  unit = 1,
): void {
  glyphs.forEach((g, k) => {
    const bits = font.glyphs[g % font.glyphs.length]!;
    drawBitmap(bg, size, bits, font.w, font.h, x + k * (font.w + 1) * unit, y, value, unit);
  });
}

/**
 * ECG waveform over one beat, phase in [0,1), roughly −1..1. Morphologies: 0 normal (P, QRS,
 * T), 1 inverted QRS and T, 2 wide QRS with a tall T, 3 paced (sharp double spike, no P),
 * 4 low-voltage smooth trace. Repeating along the trace, a morphology is a texture a network
 * picks up easily wherever it is, which is what makes it a good shortcut.
 */
export function ecgWave(phase: number, morphology = 0): number {
  const bump = (c: number, w: number, a: number) => a * Math.exp(-(((phase - c) / w) ** 2));
  switch (morphology) {
    case 1:
      return bump(0.15, 0.035, 0.15) + bump(0.3, 0.01, 0.2) + bump(0.32, 0.012, -1) + bump(0.6, 0.06, -0.35);
    case 2:
      return bump(0.12, 0.035, 0.12) + bump(0.32, 0.04, 0.8) + bump(0.6, 0.05, 0.7);
    case 3:
      return bump(0.2, 0.004, 1) + bump(0.3, 0.004, 1) + bump(0.36, 0.03, -0.4) + bump(0.6, 0.07, 0.25);
    case 4:
      return bump(0.15, 0.05, 0.12) + bump(0.32, 0.02, 0.35) + bump(0.6, 0.09, 0.15);
    default:
      return bump(0.15, 0.035, 0.15) + bump(0.3, 0.008, -0.15) + bump(0.32, 0.012, 1) + bump(0.345, 0.01, -0.3) + bump(0.6, 0.06, 0.3);
  }
}

/** ECG trace from x0 to x1 around baseline y: `beatPx` pixels per beat, amplitude and line thickness in pixels (see ecgWave). */
export function drawEcg(
  bg: Float32Array,
  size: number,
  x0: number,
  x1: number,
  y: number,
  amp: number,
  beatPx: number,
  phase: number,
  value: number,
  morphology = 0,
  thickness = 1,
): void {
  let prev = Math.round(y - amp * ecgWave(phase % 1, morphology));
  for (let x = x0; x <= x1; x++) {
    // sample the peak within the pixel column so the narrow QRS spike is not missed
    let lo = Infinity;
    let hi = -Infinity;
    for (let s = 0; s < 4; s++) {
      const v = y - amp * ecgWave((((x - x0 + s / 4) / beatPx + phase) % 1 + 1) % 1, morphology);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const a = Math.round(Math.min(lo, prev));
    const b = Math.round(Math.max(hi, prev));
    for (let yy = a; yy <= b + thickness - 1; yy++) plot(bg, size, x, yy, value);
    prev = Math.round((lo + hi) / 2);
  }
}

/**
 * Depth marks beside one edge of the sector (side −1 left, +1 right), one every `spacing`
 * pixels of depth, `gap` pixels outside the edge; 'dot' is a 1-pixel mark, 'dash' a 3-pixel one
 * along the edge normal.
 */
export function drawDepthTicks(
  bg: Float32Array,
  size: number,
  g: SectorGeometry,
  side: -1 | 1,
  spacing: number,
  gap: number,
  style: 'dot' | 'dash',
  value: number,
): void {
  const theta = side * g.halfAngle;
  // outward normal of the edge line
  const nx = side * Math.cos(theta);
  const ny = -side * Math.sin(theta);
  for (let r = spacing; r <= g.radius; r += spacing) {
    const p = fromPolar(g, r, theta);
    const len = style === 'dot' ? 1 : 3;
    for (let k = 0; k < len; k++) {
      plot(bg, size, Math.floor(p.x + nx * (gap + k)), Math.floor(p.y + ny * (gap + k)), value);
    }
  }
}

/** A vertical grey-scale reference bar, dark at the bottom, bright at the top. */
export function drawGreyBar(bg: Float32Array, size: number, x: number, y: number, w: number, h: number): void {
  for (let j = 0; j < h; j++) {
    const v = 255 * (1 - j / Math.max(1, h - 1));
    for (let i = 0; i < w; i++) plot(bg, size, x + i, y + j, Math.max(1, v));
  }
}
