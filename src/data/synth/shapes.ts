// Anti-aliased painting of the few primitives the anatomy is built from. Shapes live in "heart
// units" (the heart spans about ±1); a pose maps them to pixels. Edges are one pixel soft, so
// jittered hearts do not snap to the pixel grid (which a model could otherwise latch onto).

/** Echogenicity in 0..1: 0 = blood (black), 1 = strongest reflector. */
export type Shape =
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number; rot: number; value: number }
  | { kind: 'ring'; cx: number; cy: number; rx: number; ry: number; rot: number; width: number; value: number }
  | { kind: 'segment'; x0: number; y0: number; x1: number; y1: number; width: number; value: number };

/** Heart units → pixels: p = centre + scale · R(rot) · u. */
export interface HeartPose {
  cx: number;
  cy: number;
  /** Pixels per heart unit. */
  scale: number;
  /** Radians, clockwise on screen. */
  rot: number;
}

/** Signed distance (heart units, negative inside) from (u, v) to an ellipse's boundary, along the ray from its centre. */
function ellipseDistance(u: number, v: number, rx: number, ry: number): number {
  // sqrt, not Math.hypot, in the per-pixel paths: hypot is several times slower in V8
  const a = u / rx;
  const b = v / ry;
  const d = Math.sqrt(a * a + b * b);
  const len = Math.sqrt(u * u + v * v);
  if (d === 0) return -Math.min(rx, ry);
  return len - len / d;
}

function segmentDistance(u: number, v: number, s: Extract<Shape, { kind: 'segment' }>): number {
  const ex = s.x1 - s.x0;
  const ey = s.y1 - s.y0;
  const l2 = ex * ex + ey * ey;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((u - s.x0) * ex + (v - s.y0) * ey) / l2));
  const px = u - (s.x0 + t * ex);
  const py = v - (s.y0 + t * ey);
  return Math.sqrt(px * px + py * py) - s.width / 2;
}

function extent(s: Shape): { x: number; y: number; r: number } {
  if (s.kind === 'segment') {
    return {
      x: (s.x0 + s.x1) / 2,
      y: (s.y0 + s.y1) / 2,
      r: Math.hypot(s.x1 - s.x0, s.y1 - s.y0) / 2 + s.width,
    };
  }
  return { x: s.cx, y: s.cy, r: Math.max(s.rx, s.ry) + (s.kind === 'ring' ? s.width : 0) };
}

/**
 * Paints `shapes` in order over field: [size, size] f32 (painter's algorithm, coverage-blended:
 * v ← v·(1−a) + value·a with a the pixel coverage from a one-pixel soft edge).
 */
export function paintShapes(field: Float32Array, size: number, shapes: readonly Shape[], pose: HeartPose): void {
  const c = Math.cos(pose.rot);
  const sn = Math.sin(pose.rot);
  for (const s of shapes) {
    const e = extent(s);
    const px = pose.cx + pose.scale * (c * e.x - sn * e.y);
    const py = pose.cy + pose.scale * (sn * e.x + c * e.y);
    const rad = e.r * pose.scale + 2;
    const x0 = Math.max(0, Math.floor(px - rad));
    const x1 = Math.min(size - 1, Math.ceil(px + rad));
    const y0 = Math.max(0, Math.floor(py - rad));
    const y1 = Math.min(size - 1, Math.ceil(py + rad));
    const sc = s.kind === 'segment' ? 1 : Math.cos(s.rot);
    const ss = s.kind === 'segment' ? 0 : Math.sin(s.rot);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // pixel centre → heart units (inverse pose)
        const dx = x + 0.5 - pose.cx;
        const dy = y + 0.5 - pose.cy;
        const u = (c * dx + sn * dy) / pose.scale;
        const v = (-sn * dx + c * dy) / pose.scale;
        let dist: number;
        if (s.kind === 'segment') {
          dist = segmentDistance(u, v, s);
        } else {
          // into the shape's own frame
          const lu = sc * (u - s.cx) + ss * (v - s.cy);
          const lv = -ss * (u - s.cx) + sc * (v - s.cy);
          const d = ellipseDistance(lu, lv, s.rx, s.ry);
          dist = s.kind === 'ellipse' ? d : Math.abs(d) - s.width / 2;
        }
        const a = Math.max(0, Math.min(1, 0.5 - dist * pose.scale));
        if (a > 0) {
          const i = y * size + x;
          field[i] = field[i]! * (1 - a) + s.value * a;
        }
      }
    }
  }
}
