// float64 reference for src/kernels/conv2d.ts, written as the textbook sums so it is obviously
// right: y[n,o,oh,ow] = b[o] + Σ_{i,kh,kw} x[n,i,oh·S−pH+kh, ow·S−pW+kw] · w[o,i,kh,kw]
// (taps outside the input contribute 0). The backward passes scatter along the same index map.
// x: [N,Ci,H,W], w: [Co,Ci,KH,KW], b: [Co], y: [N,Co,Ho,Wo].
import type { Conv2dShape } from '../../src/kernels/conv2d.js';

export function refPads(s: Conv2dShape): [number, number] {
  return typeof s.pad === 'number' ? [s.pad, s.pad] : [s.pad[0], s.pad[1]];
}

export function refOutputSize(s: Conv2dShape): [number, number] {
  const [ph, pw] = refPads(s);
  return [Math.floor((s.H + 2 * ph - s.KH) / s.stride) + 1, Math.floor((s.W + 2 * pw - s.KW) / s.stride) + 1];
}

/** Calls f(xIndex, wIndex, yIndex, o) for every (output, tap) pair whose tap lands inside x. */
function forEachTap(
  s: Conv2dShape,
  f: (xi: number, wi: number, yi: number, o: number) => void,
): void {
  const [ph, pw] = refPads(s);
  const [Ho, Wo] = refOutputSize(s);
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.Co; o++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          const yi = ((n * s.Co + o) * Ho + oh) * Wo + ow;
          for (let i = 0; i < s.Ci; i++) {
            for (let kh = 0; kh < s.KH; kh++) {
              const ih = oh * s.stride - ph + kh;
              if (ih < 0 || ih >= s.H) continue;
              for (let kw = 0; kw < s.KW; kw++) {
                const iw = ow * s.stride - pw + kw;
                if (iw < 0 || iw >= s.W) continue;
                f(((n * s.Ci + i) * s.H + ih) * s.W + iw, ((o * s.Ci + i) * s.KH + kh) * s.KW + kw, yi, o);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, s: Conv2dShape): Float64Array {
  const [Ho, Wo] = refOutputSize(s);
  const y = new Float64Array(s.N * s.Co * Ho * Wo);
  if (b) {
    for (let n = 0; n < s.N; n++) for (let o = 0; o < s.Co; o++) y.fill(b[o]!, (n * s.Co + o) * Ho * Wo, (n * s.Co + o + 1) * Ho * Wo);
  }
  forEachTap(s, (xi, wi, yi) => {
    y[yi]! += x[xi]! * w[wi]!;
  });
  return y;
}

/** dx[n,i,ih,iw] = Σ over the taps that read x[n,i,ih,iw] of dy · w. */
export function conv2dBackwardInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, s: Conv2dShape): Float64Array {
  const dx = new Float64Array(s.N * s.Ci * s.H * s.W);
  forEachTap(s, (xi, wi, yi) => {
    dx[xi]! += dy[yi]! * w[wi]!;
  });
  return dx;
}

/** dw[o,i,kh,kw] = Σ_{n,oh,ow} dy · x at the tapped position; db[o] = Σ_{n,oh,ow} dy. */
export function conv2dBackwardWeightRef(x: ArrayLike<number>, dy: ArrayLike<number>, s: Conv2dShape): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(s.Co * s.Ci * s.KH * s.KW);
  const db = new Float64Array(s.Co);
  forEachTap(s, (xi, wi, yi) => {
    dw[wi]! += dy[yi]! * x[xi]!;
  });
  const [Ho, Wo] = refOutputSize(s);
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.Co; o++) {
      for (let k = 0; k < Ho * Wo; k++) db[o]! += dy[(n * s.Co + o) * Ho * Wo + k]!;
    }
  }
  return { dw, db };
}
