// float64 CPU reference for shaders/augment*.wgsl: the whole BackMix training-input pipeline,
// written from the specification independently of src/backmix (it shares no code with it).
//
// Geometry follows OpenCV 4.10 warpAffine on uint8 as albumentations' Rotate(limit=30,
// interpolation=INTER_CUBIC, border_mode=BORDER_REPLICATE) calls it: rotation about
// (S/2 − 0.5, S/2 − 0.5), source coordinates in 1/32 px, 4×4 fixed-point Keys weights (a = −0.75)
// summing to 2^15, result rounded to u8; masks nearest-neighbour. `bicubicFloat` is the
// textbook float64 bicubic at exact coordinates, used to check that the fixed-point path is
// the interpolation it claims to be.

export type RefMethod = 'none' | 'backmix' | 'black' | 'noise' | 'shuffle' | 'bokeh' | 'bokeh-blur' | 'cutmix';

const fr = Math.fround;

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function keysF32(x: number): number[] {
  const A = -0.75;
  const xp = fr(x + 1);
  const c0 = fr(fr(fr(fr(fr(fr(A * xp) + 3.75) * xp) - 6) * xp) + 3);
  const c1 = fr(fr(fr(fr(fr(1.25 * x) - 2.25) * x) * x) + 1);
  const y = fr(1 - x);
  const c2 = fr(fr(fr(fr(fr(1.25 * y) - 2.25) * y) * y) + 1);
  const c3 = fr(fr(fr(1 - c0) - c1) - c2);
  return [c0, c1, c2, c3];
}

let table: Int32Array[] | null = null;

/** table[fy·32 + fx] = 16 weights (row-major 4×4) scaled by 2^15. */
export function refCubicTable(): Int32Array[] {
  if (table) return table;
  const t: Int32Array[] = [];
  for (let fy = 0; fy < 32; fy++) {
    const wy = keysF32(fy / 32);
    for (let fx = 0; fx < 32; fx++) {
      const wx = keysF32(fx / 32);
      const w = new Int32Array(16);
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          // saturate_cast<short>: the weight 1.0 at offset 0 becomes 32767.
          w[i * 4 + j] = Math.min(32767, roundHalfEven(fr(fr(wy[i]! * wx[j]!) * 32768)));
          sum += w[i * 4 + j]!;
        }
      }
      if (sum !== 32768) {
        // OpenCV moves the rounding error onto the smallest (excess) or largest (deficit) of
        // the weights at kernel rows/columns 2..3 (its "centre" for ksize 4).
        let lo = 10;
        let hi = 10;
        for (const k of [10, 11, 14, 15]) {
          if (w[k]! < w[lo]!) lo = k;
          else if (w[k]! > w[hi]!) hi = k;
        }
        const diff = sum - 32768;
        if (diff < 0) w[hi] = w[hi]! - diff;
        else w[lo] = w[lo]! - diff;
      }
      t.push(w);
    }
  }
  table = t;
  return t;
}

/** OpenCV's inverse map for a rotation: source (x, y) = A·(x, y, 1). */
export function refInverseRotation(S: number, angleDeg: number): number[] {
  const c = S / 2 - 0.5;
  const th = (angleDeg * Math.PI) / 180;
  const a = Math.cos(th);
  const b = Math.sin(th);
  // forward [[a, b, (1−a)c − bc], [−b, a, bc + (1−a)c]]
  const m = [a, b, (1 - a) * c - b * c, -b, a, b * c + (1 - a) * c];
  const det = m[0]! * m[4]! - m[1]! * m[3]!;
  const D = det !== 0 ? 1 / det : 0;
  const i0 = m[4]! * D;
  const i1 = m[1]! * -D;
  const i3 = m[3]! * -D;
  const i4 = m[0]! * D;
  return [i0, i1, -i0 * m[2]! - i1 * m[5]!, i3, i4, -i3 * m[2]! - i4 * m[5]!];
}

function fixedCoords(S: number, angleDeg: number, x: number, y: number, roundDelta: number, shift: number): [number, number] {
  const A = refInverseRotation(S, angleDeg);
  const X0 = roundHalfEven((A[1]! * y + A[2]!) * 1024) + roundDelta;
  const Y0 = roundHalfEven((A[4]! * y + A[5]!) * 1024) + roundDelta;
  const X = Math.floor((X0 + roundHalfEven(A[0]! * x * 1024)) / 2 ** shift);
  const Y = Math.floor((Y0 + roundHalfEven(A[3]! * x * 1024)) / 2 ** shift);
  return [X, Y];
}

const clampI = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** cv2.warpAffine(frame, getRotationMatrix2D(c, angle, 1), INTER_CUBIC, BORDER_REPLICATE) on u8. */
export function refRotateCubicU8(frame: ArrayLike<number>, S: number, angleDeg: number): Uint8Array {
  const out = new Uint8Array(S * S);
  const tab = refCubicTable();
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const [X, Y] = fixedCoords(S, angleDeg, x, y, 16, 5);
      const sx = Math.floor(X / 32) - 1;
      const sy = Math.floor(Y / 32) - 1;
      const w = tab[(((Y % 32) + 32) % 32) * 32 + (((X % 32) + 32) % 32)]!;
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          sum += w[i * 4 + j]! * frame[clampI(sy + i, 0, S - 1) * S + clampI(sx + j, 0, S - 1)]!;
        }
      }
      out[y * S + x] = clampI(Math.floor((sum + 16384) / 32768), 0, 255);
    }
  }
  return out;
}

/** The same rotation with INTER_NEAREST (masks). */
export function refRotateNearest(mask: ArrayLike<number>, S: number, angleDeg: number): Uint8Array {
  const out = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const [X, Y] = fixedCoords(S, angleDeg, x, y, 512, 10);
      out[y * S + x] = mask[clampI(Y, 0, S - 1) * S + clampI(X, 0, S - 1)]!;
    }
  }
  return out;
}

/** Textbook bicubic (Keys a = −0.75) at the exact rotated coordinates, float64, replicate border. */
export function bicubicFloat(frame: ArrayLike<number>, S: number, angleDeg: number): Float64Array {
  const A = refInverseRotation(S, angleDeg);
  const k = (t: number) => {
    const a = -0.75;
    const u = Math.abs(t);
    if (u <= 1) return (a + 2) * u ** 3 - (a + 3) * u ** 2 + 1;
    if (u < 2) return a * u ** 3 - 5 * a * u ** 2 + 8 * a * u - 4 * a;
    return 0;
  };
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const fx = A[0]! * x + A[1]! * y + A[2]!;
      const fy = A[3]! * x + A[4]! * y + A[5]!;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      let s = 0;
      for (let i = -1; i <= 2; i++) {
        for (let j = -1; j <= 2; j++) {
          s += k(fy - (y0 + i)) * k(fx - (x0 + j)) * frame[clampI(y0 + i, 0, S - 1) * S + clampI(x0 + j, 0, S - 1)]!;
        }
      }
      out[y * S + x] = s;
    }
  }
  return out;
}

export function refFlipH<T extends Uint8Array | Float64Array>(img: T, S: number): T {
  const out = img.slice() as T;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = img[y * S + S - 1 - x]!;
  return out;
}

/** albumentations' uint8 brightness/contrast LUT (float32 numpy arithmetic, truncation). */
export function refContrast(v: number, alpha: number, beta: number): number {
  let t = fr(v);
  if (alpha !== 1) t = fr(t * fr(alpha));
  if (beta !== 0) t = fr(t + fr(beta * 255));
  return Math.trunc(Math.min(255, Math.max(0, t)));
}

function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The shader's keyed Feistel bijection on [0, 4^h). */
export function refFeistel(v: number, key: number, h: number): number {
  const m = 2 ** h - 1;
  let l = Math.floor(v / 2 ** h);
  let r = v & m;
  for (let i = 0; i < 4; i++) {
    const rk = mix32((key + Math.imul(i, 0x9e3779b9)) >>> 0);
    const f = mix32((r ^ rk) >>> 0) & m;
    [l, r] = [r, (l ^ f) >>> 0];
  }
  return l * 2 ** h + r;
}

/** Cycle walk of the Feistel bijection until `accept`: a bijection on the accepted set. */
export function refWalk(q: number, key: number, h: number, accept: (t: number) => boolean): number {
  let t = q;
  for (let i = 0; i < 4 ** h; i++) {
    t = refFeistel(t, key, h);
    if (accept(t)) return t;
  }
  return t;
}

export interface RefSample {
  frame: ArrayLike<number>;
  /** Source mask (0/1) or null. */
  mask: ArrayLike<number> | null;
  angle: number;
  flip: boolean;
  alpha: number;
  beta: number;
  /** Background method applies. */
  masked: boolean;
  donorFrame?: ArrayLike<number>;
  donorMask?: ArrayLike<number>;
  key?: number;
}

export interface RefOptions {
  noise?: ArrayLike<number>;
  halfBits?: number;
  bokeh?: number;
  sigma?: number;
  cutmix?: { box: [number, number, number, number]; partner: number[] };
  zscore?: boolean;
}

/** Rotate → flip → LUT for one sample: the augmented u8 frame and its augmented mask. */
export function refAugmentOne(s: RefSample, S: number): { frame: Uint8Array; mask: Uint8Array } {
  let f = refRotateCubicU8(s.frame, S, s.angle);
  let m = s.mask ? refRotateNearest(s.mask, S, s.angle) : new Uint8Array(S * S);
  if (s.flip) {
    f = refFlipH(f, S);
    m = refFlipH(m, S);
  }
  for (let q = 0; q < S * S; q++) f[q] = refContrast(f[q]!, s.alpha, s.beta);
  return { frame: f, mask: m };
}

/** Population z-score in float64; a constant image becomes zeros. */
export function refZscore(v: Float64Array): Float64Array {
  let mean = 0;
  for (const a of v) mean += a;
  mean /= v.length;
  let ss = 0;
  for (const a of v) ss += (a - mean) ** 2;
  const sd = Math.sqrt(ss / v.length);
  const constant = v.every((a) => a === v[0]);
  return v.map((a) => (constant ? 0 : (a - mean) / sd));
}

/** The whole pipeline for a batch: x[b] (S·S, float64) and the output masks. */
export function refAugmentBatch(batch: RefSample[], S: number, method: RefMethod, o: RefOptions = {}): { x: Float64Array[]; mask: Uint8Array[] } {
  const n = S * S;
  const aug = batch.map((s) => refAugmentOne(s, S));
  const xs: Float64Array[] = [];
  const masks: Uint8Array[] = [];
  batch.forEach((s, b) => {
    const v = new Float64Array(n);
    const m = new Uint8Array(n);
    for (let q = 0; q < n; q++) {
      const y = Math.floor(q / S);
      const x = q % S;
      let src = b;
      if (method === 'cutmix' && o.cutmix) {
        const [x1, y1, x2, y2] = o.cutmix.box;
        if (x >= x1 && x < x2 && y >= y1 && y < y2) src = o.cutmix.partner[b]!;
      }
      v[q] = aug[src]!.frame[q]!;
      m[q] = aug[src]!.mask[q]!;
    }
    if (s.masked && method !== 'none' && method !== 'cutmix') {
      const h = o.halfBits ?? 1;
      for (let q = 0; q < n; q++) {
        if (m[q]) continue;
        switch (method) {
          case 'backmix':
            v[q] = s.donorMask![q] ? 0 : s.donorFrame![q]!;
            break;
          case 'black':
            v[q] = 0;
            break;
          case 'noise':
            v[q] = o.noise![refWalk(q, s.key!, h, (t) => t < n)]!;
            break;
          case 'shuffle':
            v[q] = aug[b]!.frame[refWalk(q, s.key!, h, (t) => t < n && m[t] === 0)]!;
            break;
          case 'bokeh':
            v[q] = fr(v[q]! * fr(o.bokeh ?? 0.74));
            break;
          default:
            break;
        }
      }
      if (method === 'bokeh-blur') {
        // Direct 2-D normalised Gaussian over background pixels (not separable passes).
        const sigma = o.sigma ?? 3;
        const R = Math.ceil(3 * sigma);
        const src = v.slice();
        for (let q = 0; q < n; q++) {
          if (m[q]) continue;
          const y = Math.floor(q / S);
          const x = q % S;
          let num = 0;
          let den = 0;
          for (let dy = -R; dy <= R; dy++) {
            for (let dx = -R; dx <= R; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if (yy < 0 || yy >= S || xx < 0 || xx >= S || m[yy * S + xx]) continue;
              const w = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
              num += w * Math.min(255, Math.max(0, src[yy * S + xx]!));
              den += w;
            }
          }
          v[q] = num / den;
        }
      }
    }
    for (let q = 0; q < n; q++) v[q] = Math.min(255, Math.max(0, v[q]!)) / 255;
    xs.push(o.zscore === false ? v : refZscore(v));
    masks.push(m);
  });
  return { x: xs, mask: masks };
}
