// The two operands of the weight gradient as an explicit GEMM (src/kernels/conv2d_weight_gemm.ts):
//   part[c] [Co, NK] = A[c] [Co, L] · B[c] [L, NK]   for each reduction chunk c (shaders/matmul.wgsl),
// where row t of chunk c is the output position m = c·L + t of M = N·Ho·Wo, m = (n·Ho + oh)·Wo + ow:
//   gather — A[c][o][t] = dY[n, o, oh, ow] (0 for m ≥ M);
//   im2col — B[c][t][k] = X[n, ci, oh·S + kh − padH, ow·S + kw − padW] for k = (ci·KH + kh)·KW + kw
//            < K, 0 outside X; with HAS_BIAS column K is 1, so part[c][o][K] sums dY for db;
//            0 for every other column up to NK (a multiple of 4) and for m ≥ M.
// Both write whole vec4s (4 consecutive t, or 4 consecutive k) so the GEMM loads only vec4s.
// im2col covers the rows of chunks c0, c0 + 1, … only: the launcher bounds the B buffer's size.

override WG: u32 = 128u;
override HAS_BIAS: bool = false;

#include "flat_id.wgsl"

struct GemmPrepParams {
  M: u32, L: u32, Co: u32, HW: u32,
  Ci: u32, H: u32, W: u32, Wo: u32,
  KH: u32, KW: u32, S: u32, NK: u32,
  padH: u32, padW: u32, c0: u32, total: u32,
}
@group(0) @binding(0) var<uniform> gp: GemmPrepParams;
@group(0) @binding(1) var<storage, read> gatherSrc: array<f32>;
@group(0) @binding(2) var<storage, read_write> gatherDst: array<vec4f>;
@group(0) @binding(3) var<storage, read> colSrc: array<f32>;
@group(0) @binding(4) var<storage, read_write> colDst: array<vec4f>;

// One invocation per (chunk c, channel o) walks its row of L positions: (n, hw) advance by
// counters, since an integer division is a per-lane loop on the software drivers.
@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= gp.total) { return; }
  let o = i % gp.Co;
  let c = i / gp.Co;
  var m = c * gp.L;
  var n = m / gp.HW;
  var hw = m % gp.HW;
  let dst = i * (gp.L / 4u);
  for (var t = 0u; t < gp.L / 4u; t++) {
    var v = vec4f(0.0);
    v.x = dyAt(&m, &n, &hw, o);
    v.y = dyAt(&m, &n, &hw, o);
    v.z = dyAt(&m, &n, &hw, o);
    v.w = dyAt(&m, &n, &hw, o);
    gatherDst[dst + t] = v;
  }
}

// dY at position m (0 past M), then the next position.
fn dyAt(m: ptr<function, u32>, n: ptr<function, u32>, hw: ptr<function, u32>, o: u32) -> f32 {
  var v = 0.0;
  if (*m < gp.M) { v = gatherSrc[(*n * gp.Co + o) * gp.HW + *hw]; }
  *m += 1u;
  *hw += 1u;
  let imageDone = *hw == gp.HW;
  *hw = select(*hw, 0u, imageDone);
  *n = select(*n, *n + 1u, imageDone);
  return v;
}

// The tap (ci, kh, kw) of im2col column k, advanced by counters along a row.
struct Tap { k: u32, ci: u32, kh: u32, kw: u32 }

// Column k of an im2col row whose window starts at (ih0, iw0) of image plane xb, then the next k.
fn colAt(t: ptr<function, Tap>, xb: u32, ih0: i32, iw0: i32) -> f32 {
  let ih = ih0 + i32((*t).kh);
  let iw = iw0 + i32((*t).kw);
  let inside = (*t).k < gp.Ci * gp.KH * gp.KW && ih >= 0 && ih < i32(gp.H) && iw >= 0 && iw < i32(gp.W);
  // A clamped load and a select rather than a load under a per-lane branch.
  let at = xb + (min((*t).ci, gp.Ci - 1u) * gp.H + u32(clamp(ih, 0, i32(gp.H) - 1))) * gp.W + u32(clamp(iw, 0, i32(gp.W) - 1));
  var v = select(0.0, colSrc[at], inside);
  if (HAS_BIAS) { v = select(v, 1.0, (*t).k == gp.Ci * gp.KH * gp.KW); }
  (*t).k += 1u;
  (*t).kw += 1u;
  let rowDone = (*t).kw == gp.KW;
  (*t).kw = select((*t).kw, 0u, rowDone);
  (*t).kh = select((*t).kh, (*t).kh + 1u, rowDone);
  let chDone = (*t).kh == gp.KH;
  (*t).kh = select((*t).kh, 0u, chDone);
  (*t).ci = select((*t).ci, (*t).ci + 1u, chDone);
  return v;
}

// One invocation per row t of chunks c0…: the row's NK columns, walked by counters.
@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= gp.total) { return; }
  let m = gp.c0 * gp.L + i;
  let NK4 = gp.NK / 4u;
  let dst = i * NK4;
  if (m >= gp.M) {
    for (var k4 = 0u; k4 < NK4; k4++) { colDst[dst + k4] = vec4f(0.0); }
    return;
  }
  let n = m / gp.HW;
  let hw = m % gp.HW;
  let ih0 = i32((hw / gp.Wo) * gp.S) - i32(gp.padH);
  let iw0 = i32((hw % gp.Wo) * gp.S) - i32(gp.padW);
  let xb = n * gp.Ci * gp.H * gp.W;
  var t = Tap(0u, 0u, 0u, 0u);
  for (var k4 = 0u; k4 < NK4; k4++) {
    var v = vec4f(0.0);
    v.x = colAt(&t, xb, ih0, iw0);
    v.y = colAt(&t, xb, ih0, iw0);
    v.z = colAt(&t, xb, ih0, iw0);
    v.w = colAt(&t, xb, ih0, iw0);
    colDst[dst + k4] = v;
  }
}
