// The two operands of the weight gradient as an explicit GEMM (src/kernels/conv2d_weight_gemm.ts):
//   part[c] [Co, NK] = A[c] [Co, L] · B[c] [L, NK]   for each reduction chunk c (shaders/matmul.wgsl),
// where row t of chunk c is the output position m = c·L + t of M = N·Ho·Wo, m = (n·Ho + oh)·Wo + ow:
//   gather — A[c][o][t] = dY[n, o, oh, ow] (0 for m ≥ M);
//   im2col — B[c][t][k] = X[n, ci, oh·S + kh − padH, ow·S + kw − padW] for k = (ci·KH + kh)·KW + kw
//            < K, 0 outside X; with HAS_BIAS column K is 1, so part[c][o][K] sums dY for db;
//            0 for every other column up to NK (a multiple of 4) and for m ≥ M.
// Both write whole vec4s (4 consecutive t, or 4 consecutive k) so the GEMM loads only vec4s.
// im2col covers chunks c0 … c0 + rows/L − 1 only: the launcher bounds the B buffer's size.

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

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= gp.total) { return; }
  let L4 = gp.L / 4u;
  let t0 = (i % L4) * 4u;
  let q = i / L4;
  let o = q % gp.Co;
  let c = q / gp.Co;
  var v = vec4f(0.0);
  for (var e = 0u; e < 4u; e++) {
    let m = c * gp.L + t0 + e;
    if (m < gp.M) {
      let n = m / gp.HW;
      v[e] = gatherSrc[(n * gp.Co + o) * gp.HW + m % gp.HW];
    }
  }
  gatherDst[i] = v;
}

@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= gp.total) { return; }
  let NK4 = gp.NK / 4u;
  let k0 = (i % NK4) * 4u;
  let m = gp.c0 * gp.L + i / NK4;
  var v = vec4f(0.0);
  if (m < gp.M) {
    let n = m / gp.HW;
    let hw = m % gp.HW;
    let ih0 = i32((hw / gp.Wo) * gp.S) - i32(gp.padH);
    let iw0 = i32((hw % gp.Wo) * gp.S) - i32(gp.padW);
    let KK = gp.KH * gp.KW;
    let K = gp.Ci * KK;
    // (ci, kh, kw) of k0, then advanced by counters: a division per element is a per-lane loop.
    var ci = k0 / KK;
    var kh = (k0 % KK) / gp.KW;
    var kw = k0 % gp.KW;
    for (var e = 0u; e < 4u; e++) {
      let k = k0 + e;
      let ih = ih0 + i32(kh);
      let iw = iw0 + i32(kw);
      if (k < K && ih >= 0 && ih < i32(gp.H) && iw >= 0 && iw < i32(gp.W)) {
        v[e] = colSrc[((n * gp.Ci + ci) * gp.H + u32(ih)) * gp.W + u32(iw)];
      }
      if (HAS_BIAS && k == K) { v[e] = 1.0; }
      kw += 1u;
      let rowDone = kw == gp.KW;
      kw = select(kw, 0u, rowDone);
      kh = select(kh, kh + 1u, rowDone);
      let chDone = kh == gp.KH;
      kh = select(kh, 0u, chDone);
      ci = select(ci, ci + 1u, chDone);
    }
  }
  colDst[i] = v;
}
