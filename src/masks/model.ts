// The shapes an automatic sector mask can take, and turning one into pixels.
//
// Coordinates are pixel-corner coordinates: pixel (x, y) covers [x, x+1) × [y, y+1) and its
// centre is (x + 0.5, y + 0.5), as in src/data/synth/sector.ts. With that convention a model
// fitted on a frame downsampled by an integer factor k becomes the native-resolution model by
// multiplying every length by k (`scaleModel`), so masks can be fitted small and drawn at the
// frame's own size.

/**
 * A phased-array fan: beams leave the apex between angles `thetaLeft` and `thetaRight`
 * (radians, 0 = straight down, + = towards +x) and the sector spans radii innerRadius..radius.
 * innerRadius > 0 is the curved top some scanners draw when the apex is above the image.
 */
export interface FanModel {
  kind: 'fan';
  apexX: number;
  apexY: number;
  thetaLeft: number;
  thetaRight: number;
  radius: number;
  innerRadius: number;
}

/** A linear-probe sector: between two near-parallel edge lines x = a + b·y, from row `top` to row `bottom` (corner coordinates). */
export interface LinearModel {
  kind: 'linear';
  left: Line;
  right: Line;
  top: number;
  bottom: number;
}

/** A convex polygon (counter-clockwise in image coordinates is not required; any winding). */
export interface HullModel {
  kind: 'hull';
  points: Array<[number, number]>;
}

export type SectorModel = FanModel | LinearModel | HullModel;

/** x = a + b·y: edges of an upright sector are steep, so x as a function of y stays finite. */
export interface Line {
  a: number;
  b: number;
}

/** The model at k× the resolution it was fitted at. */
export function scaleModel(m: SectorModel, k: number): SectorModel {
  if (k === 1) return m;
  switch (m.kind) {
    case 'fan':
      return { ...m, apexX: m.apexX * k, apexY: m.apexY * k, radius: m.radius * k, innerRadius: m.innerRadius * k };
    case 'linear':
      // x = a + b·y scales to kx = k·a + b·(ky): the slope is scale-free
      return { kind: 'linear', left: { a: m.left.a * k, b: m.left.b }, right: { a: m.right.a * k, b: m.right.b }, top: m.top * k, bottom: m.bottom * k };
    case 'hull':
      return { kind: 'hull', points: m.points.map(([x, y]) => [x * k, y * k]) };
  }
}

/** mask: [height, width] u8, 1 where the pixel centre lies inside the model. */
export function rasterize(m: SectorModel, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  if (m.kind === 'fan') {
    // Angle tests by cross products instead of atan2 per pixel (several times faster): a point
    // v (relative to the apex) lies at angle ≥ θL when sin(θ − θL) ≥ 0, at ≤ θR when
    // sin(θR − θ) ≥ 0, and on the downward side of the fan when v · bisector > 0 (which rules
    // out the mirror-image wedge above the apex; the opening is always < 180°).
    const sL = Math.sin(m.thetaLeft), cL = Math.cos(m.thetaLeft);
    const sR = Math.sin(m.thetaRight), cR = Math.cos(m.thetaRight);
    const mid = (m.thetaLeft + m.thetaRight) / 2;
    const sM = Math.sin(mid), cM = Math.cos(mid);
    const r2 = m.radius * m.radius;
    const i2 = m.innerRadius * m.innerRadius;
    for (let y = 0; y < height; y++) {
      const vy = y + 0.5 - m.apexY;
      for (let x = 0; x < width; x++) {
        const vx = x + 0.5 - m.apexX;
        const d2 = vx * vx + vy * vy;
        if (d2 > r2 || d2 < i2) continue;
        if (vx * cL - vy * sL < 0 || vy * sR - vx * cR < 0 || vx * sM + vy * cM <= 0) continue;
        out[y * width + x] = 1;
      }
    }
    return out;
  }
  if (m.kind === 'linear') {
    const y0 = Math.max(0, Math.ceil(m.top - 0.5));
    const y1 = Math.min(height - 1, Math.floor(m.bottom - 0.5));
    for (let y = y0; y <= y1; y++) {
      const cy = y + 0.5;
      const xl = m.left.a + m.left.b * cy;
      const xr = m.right.a + m.right.b * cy;
      for (let x = Math.max(0, Math.ceil(xl - 0.5)); x < width && x + 0.5 <= xr; x++) out[y * width + x] = 1;
    }
    return out;
  }
  const pts = m.points;
  if (pts.length < 3) return out;
  // a convex polygon meets each row in one interval: between the least and the greatest x at
  // which its edges cross the row's centre line
  for (let y = 0; y < height; y++) {
    const py = y + 0.5;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < pts.length; i++) {
      const [x0, y0] = pts[i]!;
      const [x1, y1] = pts[(i + 1) % pts.length]!;
      if ((y0 <= py && py <= y1) || (y1 <= py && py <= y0)) {
        const x = y1 === y0 ? Math.min(x0, x1) : x0 + ((py - y0) * (x1 - x0)) / (y1 - y0);
        const x2 = y1 === y0 ? Math.max(x0, x1) : x;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x2);
      }
    }
    if (!(hi >= lo)) continue;
    for (let x = Math.max(0, Math.ceil(lo - 0.5)); x < width && x + 0.5 <= hi; x++) out[y * width + x] = 1;
  }
  return out;
}

/** Intersection over union of two 0/1 masks of the same size; 1 when both are empty. */
export function iou(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`iou: masks of ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]! !== 0;
    const q = b[i]! !== 0;
    if (p && q) inter++;
    if (p || q) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Pixels of the mask that have a 4-neighbour outside it (or lie on the image border): its outline. */
export function outline(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width]) out[i] = 1;
    }
  }
  return out;
}
