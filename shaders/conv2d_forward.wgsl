// Direct conv2d as an implicit GEMM with register tiles (no im2col buffer):
//   Y[n, o, oh·soH + ooH, ow·soW + ooW] (+)= bias[o] + Σ_{r,kh,kw} Xp[n, r, oh·S + kh, ow·S + kw] · Wp[r, kh, kw, o]
// for oh < Hq, ow < Wq, o < O.
// Xp: [N,R,Hp,Wp4·4] f32 read as vec4 — already zero-padded and shifted by conv2d_prep.wgsl:pad,
//     so every load is an aligned vec4 and the inner loop has no border branches.
// Wp: [R,KH,KW,OV·4] f32 read as vec4 — output channels fastest, zero beyond O (repack).
// Y:  [N,O,outH,outW] f32.
// The forward pass uses it with (R,O) = (Ci,Co), soH = soW = 1; the input gradient uses it once
// per stride phase as a stride-1 correlation of the padded dy with the flipped sub-kernel,
// writing every S-th row and column of dx (soH = soW = S).
//
// Each invocation computes COT output channels × THO output rows × 4·TWV output columns.
// Why this shape (DESIGN.md §4): on lavapipe each storage load is a per-lane loop, so the
// kernel maximises FMAs per loaded vec4 — one input row segment feeds KW·COT·TWV vec4 FMAs,
// one weight vec4 feeds THO·TWV·4 — and the kw shifts are built by swizzling the row segment
// held in registers instead of reloading it. No shared memory or barriers (slow on SwiftShader).

struct Params {
  R: u32, Hp: u32, Wp4: u32, O: u32,
  OV: u32, outH: u32, outW: u32, Hq: u32,
  Wq: u32, soH: u32, ooH: u32, soW: u32,
  ooW: u32, tilesW: u32, tilesH: u32, N: u32,
  total: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

const COT: u32 = 8u; // @specialize output channels per invocation, a multiple of 4
const TWV: u32 = 2u; // @specialize output columns per invocation, in vec4s
const THO: u32 = 1u; // @specialize output rows per invocation
const KH: u32 = 3u; // @specialize kernel rows
const KW: u32 = 3u; // @specialize kernel columns
const S: u32 = 1u; // @specialize stride of the input taps
const COTV: u32 = COT / 4u;
// vec4s of one input row that a tile's 4·TWV outputs touch: columns [0, (4·TWV−1)·S + KW).
const SEGV: u32 = ((4u * TWV - 1u) * S + KW + 3u) / 4u;

// Element c of the row segment; c is a compile-time constant once the loops are unrolled.
fn segAt(seg: ptr<function, array<vec4f, SEGV>>, c: u32) -> f32 {
  return (*seg)[c / 4u][c % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.total) { return; }
  // Column tiles vary fastest and the channel tile slowest, so a workgroup shares weights.
  var q = id;
  let tw = q % p.tilesW;
  q /= p.tilesW;
  let th = q % p.tilesH;
  q /= p.tilesH;
  let n = q % p.N;
  let ot = q / p.N;
  let oh0 = th * THO;
  let ov0 = tw * TWV;

  var acc: array<vec4f, THO * COT * TWV>;
  let xPlane = p.Hp * p.Wp4;
  var xb = (n * p.R * p.Hp + oh0 * S) * p.Wp4 + ov0 * S;
  var wb = ot * COTV;
  let wTap = p.OV;
  for (var r = 0u; r < p.R; r++) {
    for (var kh = 0u; kh < KH; kh++) {
      var wv: array<vec4f, KW * COTV>;
      for (var kw = 0u; kw < KW; kw++) {
        for (var cv = 0u; cv < COTV; cv++) {
          wv[kw * COTV + cv] = Wt[wb + (kh * KW + kw) * wTap + cv];
        }
      }
      for (var t = 0u; t < THO; t++) {
        var seg: array<vec4f, SEGV>;
        let sb = xb + (t * S + kh) * p.Wp4;
        for (var i = 0u; i < SEGV; i++) { seg[i] = X[sb + i]; }
        for (var kw = 0u; kw < KW; kw++) {
          for (var jv = 0u; jv < TWV; jv++) {
            let c0 = jv * 4u * S + kw;
            let xv = vec4f(segAt(&seg, c0), segAt(&seg, c0 + S), segAt(&seg, c0 + 2u * S), segAt(&seg, c0 + 3u * S));
            for (var cv = 0u; cv < COTV; cv++) {
              let w4 = wv[kw * COTV + cv];
              let a = (t * COT + cv * 4u) * TWV + jv;
              acc[a] = fma(vec4f(w4.x), xv, acc[a]);
              acc[a + TWV] = fma(vec4f(w4.y), xv, acc[a + TWV]);
              acc[a + 2u * TWV] = fma(vec4f(w4.z), xv, acc[a + 2u * TWV]);
              acc[a + 3u * TWV] = fma(vec4f(w4.w), xv, acc[a + 3u * TWV]);
            }
          }
        }
      }
    }
    xb += xPlane;
    wb += KH * KW * wTap;
  }

  for (var t = 0u; t < THO; t++) {
    let oh = oh0 + t;
    if (oh >= p.Hq) { break; }
    let orow = oh * p.soH + p.ooH;
    for (var co = 0u; co < COT; co++) {
      let o = ot * COT + co;
      if (o >= p.O) { break; }
      var bv = 0.0;
      if (HAS_BIAS) { bv = B[o]; }
      let base = ((n * p.O + o) * p.outH + orow) * p.outW + p.ooW;
      for (var jv = 0u; jv < TWV; jv++) {
        let v4 = acc[(t * COT + co) * TWV + jv] + vec4f(bv);
        for (var e = 0u; e < 4u; e++) {
          let ow = (ov0 + jv) * 4u + e;
          if (ow < p.Wq) {
            let idx = base + ow * p.soW;
            if (ACCUMULATE) { Y[idx] += v4[e]; } else { Y[idx] = v4[e]; }
          }
        }
      }
    }
  }
}
