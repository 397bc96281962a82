// Finding the ultrasound sector in one frame with classical image processing — no training,
// every step explainable (docs/DECISIONS.md, "Automatic sector masks"):
//
//  1. foreground: pixels brighter than the background floor (a low percentile) plus a margin;
//  2. solid foreground: an opening by a 3×3 square drops strokes up to 2 px thick (ECG traces,
//     ticks, glyph strokes); dense foreground: at least half of the 5×5 window is solid, so
//     the speckle's dark pixels inside the sector are filled and isolated dots are dropped;
//  3. opening by a 5×5 square: strokes thinner than 5 px (text, ticks, ECG, rulers) vanish,
//     and thin bridges between metadata and the sector break;
//  4. the largest 4-connected region: the sector (evidence);
//  5. a model fitted to that region's boundary: the two edge lines by robust line fits on each
//     row's left-most and right-most pixel, the apex where they meet, the outer (and inner)
//     arc by the most common radius at which rays from the apex leave (enter) the region. A
//     piece of text touching the edge adds a few outlying boundary points, which the robust
//     fits ignore, so it does not leak into the mask. Near-parallel edges make a linear-probe
//     (rectangular) sector; `hull` mode fits the region's convex hull instead;
//  6. confidence: IoU of the fitted model with the evidence region (1 when the region is
//     exactly a fan; lower when something is attached, carved away or not fan-shaped at all).
//
// Frames larger than ANALYSIS_MAX are box-downsampled by an integer factor first; the model is
// then scaled back (model.ts) and drawn at the native size.

import { rasterize, iou, type FanModel, type HullModel, type Line, type LinearModel, type SectorModel } from './model.js';

/** Longest side analysed; larger frames are box-downsampled by ceil(side / ANALYSIS_MAX). */
export const ANALYSIS_MAX = 160;
/** A region smaller than this fraction of the frame is not a sector (noise, a logo, a marker). */
export const MIN_REGION_FRACTION = 0.01;

/** A region larger than this fraction of the frame is not a sector (see fitEvidence). */
export const MAX_REGION_FRACTION = 0.9;

export type FitMethod = 'fan' | 'hull';

/** What the pixel stages found in one frame (at analysis size). */
export interface Evidence {
  width: number;
  height: number;
  /** Integer downsampling factor from the native frame. */
  scale: number;
  /** Grey level above which a pixel counts as foreground. */
  threshold: number;
  /** The background floor (5th percentile grey level). */
  floor: number;
  /** Raw foreground (value > threshold): [height, width] 0/1. */
  fg: Uint8Array;
  /** The largest opened dense-foreground region: [height, width] 0/1 (all zero when none). */
  region: Uint8Array;
  regionArea: number;
}

export interface FrameFit {
  /** Model at analysis size, or null when no sector was found. */
  model: SectorModel | null;
  /** IoU of the model with the evidence region, 0 when there is no model. */
  confidence: number;
  /** Why there is no model, when there is none. */
  reason?: string;
}

/** Box-downsamples [h, w] u8 by integer factor k (partial edge blocks averaged over what they hold). */
export function downsample(data: Uint8Array, w: number, h: number, k: number): { data: Uint8Array; width: number; height: number } {
  if (k === 1) return { data, width: w, height: h };
  const W = Math.ceil(w / k), H = Math.ceil(h / k);
  const sum = new Float64Array(W * H);
  const cnt = new Float64Array(W * H);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / k) * W;
    for (let x = 0; x < w; x++) {
      const j = row + Math.floor(x / k);
      sum[j]! += data[y * w + x]!;
      cnt[j]!++;
    }
  }
  const out = new Uint8Array(W * H);
  for (let j = 0; j < out.length; j++) out[j] = Math.round(sum[j]! / cnt[j]!);
  return { data: out, width: W, height: H };
}

/** Integer downsampling factor for a frame of this size. */
export function analysisScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(Math.max(width, height) / ANALYSIS_MAX));
}

function percentile(hist: Float64Array, total: number, q: number): number {
  let c = 0;
  const want = q * total;
  for (let v = 0; v < hist.length; v++) {
    c += hist[v]!;
    if (c > want) return v;
  }
  return hist.length - 1;
}

/**
 * Foreground threshold: the background floor (5th percentile: some background is always
 * there, since a sector never fills a frame) plus a margin of 6 grey levels, widened when the
 * darkest fifth of the frame is itself noisy (2× the 5th-to-20th percentile spread; capped so
 * that a frame whose dark fifth already reaches into the sector keeps a usable threshold).
 * On the synthetic benchmark the floor is 0..4 and 1–5% of sector pixels fall under the
 * threshold; the 5×5 density step fills them.
 */
export function foregroundThreshold(gray: Uint8Array): { threshold: number; floor: number } {
  const hist = new Float64Array(256);
  for (let i = 0; i < gray.length; i++) hist[gray[i]!]!++;
  const p5 = percentile(hist, gray.length, 0.05);
  const p20 = percentile(hist, gray.length, 0.2);
  return { threshold: p5 + Math.min(24, Math.max(6, 2 * (p20 - p5))), floor: p5 };
}

/**
 * A background floor brighter than this is no background: scanners draw the sector on black
 * (0..4 on the synthetic sites, 0 around TMED-2's sectors), so a frame whose darkest 5% is
 * this bright has no sector to find (a photograph, a full-frame texture).
 */
export const MAX_BACKGROUND_FLOOR = 40;

/**
 * count[i] = number of ones of `m` in the (2r+1)² window around i (clipped at the border):
 * a running sum along each row, then each row of counts from the one above it (add the row
 * entering the window, subtract the one leaving) — two adds per pixel whatever r is, in
 * memory order. Counts fit a byte for the windows used here (r ≤ 7).
 */
export function boxCount(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  if (r > 7) throw new RangeError(`boxCount: window radius ${r} > 7 would overflow a byte`);
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    for (let x = 0; x < r && x < w; x++) s += m[o + x]!;
    for (let x = 0; x < w; x++) {
      if (x + r < w) s += m[o + x + r]!;
      if (x > r) s -= m[o + x - r - 1]!;
      rows[o + x] = s;
    }
  }
  const count = new Uint8Array(w * h);
  for (let y = 0; y <= r && y < h; y++) for (let x = 0, o = y * w; x < w; x++) count[x]! += rows[o + x]!;
  for (let y = 1; y < h; y++) {
    const o = y * w, p = o - w;
    const add = y + r < h ? (y + r) * w : -1;
    const sub = y > r ? (y - r - 1) * w : -1;
    if (add >= 0 && sub >= 0) for (let x = 0; x < w; x++) count[o + x] = count[p + x]! + rows[add + x]! - rows[sub + x]!;
    else if (add >= 0) for (let x = 0; x < w; x++) count[o + x] = count[p + x]! + rows[add + x]!;
    else if (sub >= 0) for (let x = 0; x < w; x++) count[o + x] = count[p + x]! - rows[sub + x]!;
    else count.copyWithin(o, p, o);
  }
  return count;
}

/** Pixels of the (2r+1)² window around each pixel that lie inside the image. */
export function boxArea(w: number, h: number, r: number): Int32Array {
  const area = new Int32Array(w * h);
  for (let y = 0; y < h; y++) {
    const ny = Math.min(h, y + r + 1) - Math.max(0, y - r);
    for (let x = 0; x < w; x++) area[y * w + x] = ny * (Math.min(w, x + r + 1) - Math.max(0, x - r));
  }
  return area;
}

/**
 * Binary erosion or dilation by a (2r+1)² square (outside the image counts as 0): a pixel
 * survives erosion when its whole window is 1 and is set by dilation when any of it is; both
 * read the window count off an integral image, O(pixels) whatever r is.
 */
export function morph(m: Uint8Array, w: number, h: number, r: number, dilate: boolean): Uint8Array {
  const count = boxCount(m, w, h, r);
  const full = (2 * r + 1) * (2 * r + 1);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = dilate ? (count[i]! > 0 ? 1 : 0) : count[i] === full ? 1 : 0;
  return out;
}

/** The largest 4-connected region of ones: [h, w] 0/1 and its area. */
export function largestRegion(m: Uint8Array, w: number, h: number): { region: Uint8Array; area: number } {
  const label = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  let best = 0, bestArea = 0, next = 0;
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || label[s]) continue;
    next++;
    let top = 0, area = 0;
    stack[top++] = s;
    label[s] = next;
    while (top > 0) {
      const i = stack[--top]!;
      area++;
      const x = i % w;
      if (x > 0 && m[i - 1] && !label[i - 1]) (label[i - 1] = next), (stack[top++] = i - 1);
      if (x < w - 1 && m[i + 1] && !label[i + 1]) (label[i + 1] = next), (stack[top++] = i + 1);
      if (i >= w && m[i - w] && !label[i - w]) (label[i - w] = next), (stack[top++] = i - w);
      if (i + w < m.length && m[i + w] && !label[i + w]) (label[i + w] = next), (stack[top++] = i + w);
    }
    if (area > bestArea) (bestArea = area), (best = next);
  }
  const region = new Uint8Array(w * h);
  if (best) for (let i = 0; i < region.length; i++) region[i] = label[i] === best ? 1 : 0;
  return { region, area: bestArea };
}

/** Steps 1–4 of the file comment on a native [height, width] u8 frame. */
export function gatherEvidence(gray: Uint8Array, width: number, height: number): Evidence {
  const scale = analysisScale(width, height);
  const { data, width: w, height: h } = downsample(gray, width, height, scale);
  const { threshold, floor } = foregroundThreshold(data);
  const fg = new Uint8Array(w * h);
  for (let i = 0; i < fg.length; i++) fg[i] = data[i]! > threshold ? 1 : 0;
  // strokes up to 2 px thick (ECG traces, ticks, text) go before the density step, which
  // would otherwise bridge a trace running a pixel or two beside the arc onto the sector
  const solid = morph(morph(fg, w, h, 1, false), w, h, 1, true);
  const count = boxCount(solid, w, h, 2);
  const area = boxArea(w, h, 2);
  const dense = new Uint8Array(w * h);
  for (let i = 0; i < dense.length; i++) dense[i] = 2 * count[i]! >= area[i]! ? 1 : 0;
  const opened = morph(morph(dense, w, h, 2, false), w, h, 2, true);
  const { region, area: regionArea } = largestRegion(opened, w, h);
  return { width: w, height: h, scale, threshold, floor, fg, region, regionArea };
}

// ---- robust fitting helpers ------------------------------------------------------------

/** Least-squares x = a + b·y through points; null when the ys do not vary. */
function lsq(ps: ReadonlyArray<readonly [number, number]>): Line | null {
  const n = ps.length;
  if (n < 2) return null;
  let sy = 0, sx = 0, syy = 0, sxy = 0;
  for (const [x, y] of ps) {
    sy += y;
    sx += x;
    syy += y * y;
    sxy += x * y;
  }
  const d = n * syy - sy * sy;
  if (Math.abs(d) < 1e-9) return null;
  const b = (n * sxy - sx * sy) / d;
  return { a: (sx - b * sy) / n, b };
}

/**
 * Robust line x = a + b·y: every pair of points at least a quarter of the span apart (of
 * ≤ 24 spread over the span) proposes a line, the one with most points within `tol` pixels (of
 * ≤ 96 evenly spaced ones) wins,
 * and least squares on its inliers refines it twice. Deterministic (no random sampling), so a
 * frame always gets the same mask.
 */
export function robustLine(ps: ReadonlyArray<readonly [number, number]>, tol = 1): { line: Line; inliers: number } | null {
  const n = ps.length;
  if (n < 4) return null;
  const minGap = Math.max(1, Math.floor(n / 4));
  let best: Line | null = null;
  let bestCount = -1;
  const countIn = (l: Line, stride = 1) => {
    let c = 0;
    for (let k = 0; k < n; k += stride) {
      const [x, y] = ps[k]!;
      if (Math.abs(x - (l.a + l.b * y)) <= tol) c++;
    }
    return c;
  };
  // proposals are scored on every `score`-th point (≤ 96 of them; a frame of ≤ 160 rows has
  // at most two per point), the winner refined on all of them
  const score = Math.max(1, Math.ceil(n / 96));
  // the proposing points are spread by the golden ratio, not every k-th: a regular stride
  // can fall in step with periodic outliers (dashed ticks, text lines) and see only them
  const pick: number[] = [];
  const want = Math.min(n, 24);
  for (let k = 0; pick.length < want && k < 4 * want; k++) {
    const idx = Math.floor(((k * 0.6180339887498949) % 1) * n);
    if (!pick.includes(idx)) pick.push(idx);
  }
  pick.sort((p, q) => p - q);
  for (const i of pick) {
    for (const j of pick) {
      if (j - i < minGap) continue;
      const [x0, y0] = ps[i]!;
      const [x1, y1] = ps[j]!;
      if (y1 === y0) continue;
      const b = (x1 - x0) / (y1 - y0);
      const l = { a: x0 - b * y0, b };
      const c = countIn(l, score);
      if (c > bestCount) (bestCount = c), (best = l);
    }
  }
  if (!best) return null;
  for (let it = 0; it < 2; it++) {
    const inl = ps.filter(([x, y]) => Math.abs(x - (best!.a + best!.b * y)) <= tol);
    const l = lsq(inl);
    if (!l) break;
    best = l;
  }
  return { line: best, inliers: countIn(best) };
}

/** Sorted values and, for each i, how many lie in [v[i], v[i] + 2·tol]. */
function windows(values: number[], tol: number): { v: number[]; count: number[] } {
  const v = [...values].sort((a, b) => a - b);
  const count: number[] = [];
  let j = 0;
  for (let i = 0; i < v.length; i++) {
    while (j < v.length && v[j]! - v[i]! <= 2 * tol) j++;
    count.push(j - i);
  }
  return { v, count };
}

function windowMean(v: number[], i: number, n: number): number {
  let s = 0;
  for (let k = i; k < i + n; k++) s += v[k]!;
  return s / n;
}

/**
 * The most common value: the window of width 2·tol holding the most values wins and its mean
 * is returned, with the share of values it holds. Spread-out outliers cannot outvote a tight
 * cluster.
 */
export function modeCluster(values: number[], tol: number): { value: number; support: number } | null {
  if (values.length === 0) return null;
  const { v, count } = windows(values, tol);
  let best = 0;
  for (let i = 1; i < v.length; i++) if (count[i]! > count[best]!) best = i;
  return { value: windowMean(v, best, count[best]!), support: count[best]! / v.length };
}

/**
 * The largest value that at least `minShare` of the values agree on (within 2·tol). For the
 * outer arc: a shadow or dropout cuts the rays through it short, all at the shadow's own
 * start radius — a tight cluster that can hold most rays of a hard frame — while the rays
 * that reach the true arc are never longer than it. So the farthest well-supported cluster is
 * the arc; attached text lengthens a few rays by different amounts and forms no cluster.
 */
export function farthestCluster(values: number[], tol: number, minShare: number): { value: number; support: number } | null {
  if (values.length === 0) return null;
  const { v, count } = windows(values, tol);
  const need = Math.max(2, Math.ceil(minShare * v.length));
  let last = -1;
  for (let i = 0; i < v.length; i++) if (count[i]! >= need) last = i;
  if (last < 0) return null;
  // re-centre: the fullest window starting within 2·tol below the farthest supported one
  let best = last;
  for (let i = last; i >= 0 && v[last]! - v[i]! <= 2 * tol; i--) if (count[i]! > count[best]!) best = i;
  return { value: windowMean(v, best, count[best]!), support: count[best]! / v.length };
}

/** Left-most and right-most region pixel of each row not clipped by the image border, as boundary points (corner coordinates). */
function rowBoundaries(ev: Evidence): { left: Array<[number, number]>; right: Array<[number, number]>; rows: number; top: number; bottom: number } {
  const { width: w, height: h, region } = ev;
  const left: Array<[number, number]> = [];
  const right: Array<[number, number]> = [];
  let rows = 0, top = -1, bottom = -1;
  for (let y = 0; y < h; y++) {
    let xl = -1, xr = -1;
    for (let x = 0; x < w; x++) if (region[y * w + x]) { xl = x; break; }
    if (xl < 0) continue;
    for (let x = w - 1; x >= 0; x--) if (region[y * w + x]) { xr = x; break; }
    rows++;
    if (top < 0) top = y;
    bottom = y;
    if (xl > 0) left.push([xl, y + 0.5]);
    if (xr < w - 1) right.push([xr + 1, y + 0.5]);
  }
  return { left, right, rows, top, bottom };
}

/** Fan apexes farther than this many image sizes above the image are treated as parallel edges (linear probe). */
const LINEAR_APEX_DISTANCE = 8;

/** Fits a fan (or, for near-parallel edges, a linear sector) to the evidence region. */
export function fitFan(ev: Evidence): SectorModel | null {
  const { width: w, height: h, region } = ev;
  const rb = rowBoundaries(ev);
  const minInliers = Math.max(4, Math.floor(0.25 * rb.rows));
  const L = robustLine(rb.left);
  const R = robustLine(rb.right);
  if (!L || !R || L.inliers < minInliers || R.inliers < minInliers) return null;
  const size = Math.max(w, h);
  const db = R.line.b - L.line.b; // edges open downwards: the right edge's slope exceeds the left's
  const apexY = db > 1e-9 ? (L.line.a - R.line.a) / db : -Infinity;
  if (!(apexY > -LINEAR_APEX_DISTANCE * size)) return fitLinear(ev, L.line, R.line);
  const apexX = L.line.a + L.line.b * apexY;
  // the apex must sit at or above the region's top: edges crossing inside it are not a fan
  if (apexY > rb.top + 2) return null;
  const thetaLeft = Math.atan(L.line.b);
  const thetaRight = Math.atan(R.line.b);
  const span = thetaRight - thetaLeft;
  if (!(span > 0.05 && span < Math.PI * 0.95)) return null;

  // rays from the apex across the opening, all but 4% at each edge (where the fitted edge may be a pixel off)
  const K = 64;
  const far = Math.hypot(Math.max(apexX, w - apexX), Math.max(Math.abs(apexY), Math.abs(h - apexY))) + 2;
  const outer: number[] = [];
  const inner: number[] = [];
  for (let k = 0; k < K; k++) {
    const t = thetaLeft + span * (0.04 + (0.92 * (k + 0.5)) / K);
    const sx = Math.sin(t), sy = Math.cos(t);
    let first = -1, last = -1, firstAtBorder = false, lastAtBorder = false;
    for (let r = 0; r <= far; r += 0.5) {
      const x = Math.floor(apexX + r * sx), y = Math.floor(apexY + r * sy);
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      if (region[y * w + x]) {
        if (first < 0) {
          first = r;
          // the first hit is on the image's edge: the sector is cut by the border, its own top unseen
          firstAtBorder = x === 0 || y === 0 || x === w - 1 || y === h - 1;
        }
        last = r;
        lastAtBorder = x === 0 || y === 0 || x === w - 1 || y === h - 1;
      }
    }
    if (last < 0) continue;
    if (!lastAtBorder) outer.push(last + 0.25); // the boundary lies half a step past the last inside sample
    if (!firstAtBorder) inner.push(Math.max(0, first - 0.25));
  }
  const out = farthestCluster(outer, 1.5, 0.1);
  // no clear arc: the median ray (a sector running off the image's bottom has no ray at all)
  const radius = out ? out.value : outer.length ? [...outer].sort((a, b) => a - b)[outer.length >> 1]! : far;
  // The opening rounds off the sharp tip of an apex inside the image, so rays first meet the
  // region a few pixels out even without an inner arc: only a first-hit radius well beyond
  // that is an inner arc.
  const tipLoss = 3 / Math.tan(span / 2) + 3;
  const inn = modeCluster(inner, 1.5);
  const innerRadius = inn && inn.support >= 0.4 && inn.value > Math.max(tipLoss, 0.04 * radius) ? inn.value : 0;
  if (!(radius > innerRadius + 2)) return null;
  const fan: FanModel = { kind: 'fan', apexX, apexY, thetaLeft, thetaRight, radius, innerRadius };
  return fan;
}

/** Linear probe: the region between the two edge lines, from its most common top row to its most common bottom row. */
function fitLinear(ev: Evidence, left: Line, right: Line): LinearModel | null {
  const { width: w, height: h, region } = ev;
  const tops: number[] = [];
  const bottoms: number[] = [];
  for (let x = 0; x < w; x++) {
    const cx = x + 0.5;
    // columns between the edges, a pixel in from each, at the region's mid-height
    let t = -1, b = -1;
    for (let y = 0; y < h; y++) if (region[y * w + x]) { t = y; break; }
    if (t < 0) continue;
    for (let y = h - 1; y >= 0; y--) if (region[y * w + x]) { b = y; break; }
    const my = (t + b + 1) / 2;
    if (cx < left.a + left.b * my + 1 || cx > right.a + right.b * my - 1) continue;
    if (t > 0) tops.push(t);
    if (b < h - 1) bottoms.push(b + 1);
  }
  const top = modeCluster(tops, 1)?.value ?? 0;
  const bottom = modeCluster(bottoms, 1)?.value ?? h;
  if (!(bottom > top + 2)) return null;
  return { kind: 'linear', left, right, top, bottom };
}

/** Convex hull (Andrew's monotone chain) of the region's pixel corners. */
export function fitHull(ev: Evidence): HullModel | null {
  const { width: w, height: h, region } = ev;
  if (ev.regionArea === 0) return null;
  // only each row's extreme pixels can be hull vertices; their outer corners bound the pixels
  const pts: Array<[number, number]> = [];
  for (let y = 0; y < h; y++) {
    let xl = -1, xr = -1;
    for (let x = 0; x < w; x++) if (region[y * w + x]) { xl = x; break; }
    if (xl < 0) continue;
    for (let x = w - 1; x >= 0; x--) if (region[y * w + x]) { xr = x; break; }
    pts.push([xl, y], [xl, y + 1], [xr + 1, y], [xr + 1, y + 1]);
  }
  pts.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Array<[number, number]> = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Array<[number, number]> = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = lower.slice(0, -1).concat(upper.slice(0, -1));
  // pixel corners put the hull half a pixel outside the region's pixel centres; pulling each
  // vertex half a pixel towards the centroid keeps the rasterised hull the region's size
  let cx = 0, cy = 0;
  for (const [x, y] of hull) (cx += x), (cy += y);
  cx /= hull.length;
  cy /= hull.length;
  const points = hull.map(([x, y]): [number, number] => {
    const d = Math.hypot(x - cx, y - cy) || 1;
    return [x - (0.5 * (x - cx)) / d, y - (0.5 * (y - cy)) / d];
  });
  return hull.length >= 3 ? { kind: 'hull', points } : null;
}

/** IoU of a model with the frame's evidence region (the confidence of the file comment, step 6). */
export function modelConfidence(model: SectorModel, ev: Evidence): number {
  return iou(rasterize(model, ev.width, ev.height), ev.region);
}

/** Steps 5–6 on gathered evidence. */
export function fitEvidence(ev: Evidence, method: FitMethod): FrameFit {
  if (ev.floor > MAX_BACKGROUND_FLOOR) {
    return { model: null, confidence: 0, reason: `no dark background around a sector (5th percentile grey level ${ev.floor})` };
  }
  if (ev.regionArea < MIN_REGION_FRACTION * ev.width * ev.height) {
    return { model: null, confidence: 0, reason: ev.regionArea === 0 ? 'no foreground region' : 'foreground region too small for a sector' };
  }
  // a sector always leaves background around it (where scanners print their metadata): a
  // region filling the frame is not a sector but a frame without one (a photograph, a
  // full-frame texture), and its hull would be the whole image
  if (ev.regionArea > MAX_REGION_FRACTION * ev.width * ev.height) {
    return { model: null, confidence: 0, reason: 'foreground fills the frame; no background around a sector' };
  }
  const model = method === 'fan' ? fitFan(ev) : fitHull(ev);
  if (!model) return { model: null, confidence: 0, reason: method === 'fan' ? 'no fan or linear sector fits the region' : 'no hull' };
  return { model, confidence: modelConfidence(model, ev) };
}
