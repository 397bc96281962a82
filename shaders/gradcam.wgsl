// GradCAM (Selvaraju et al.) on one conv activation, entirely on the GPU: three dispatches,
// no readback.
//   A, dA: [N,C,h,w] f32 — the activation and d(target logit)/dA, per image; hw = h·w.
//   gc_alpha:  alpha[n,c] = (1/hw)·Σ_q dA[n,c,q]                                  [N,C]
//   gc_cam:    cam[n,q]   = max(0, Σ_c alpha[n,c]·A[n,c,q])                         [N,h,w]
//   gc_upsample_norm (one workgroup per image):
//              up = bilinear(cam[n]) at (H,W), PyTorch align_corners=False semantics;
//              z[n] = (up − min)/(max − min), clamped to [0,1], valid[n] = 1;
//              a range below min_range (a constant CAM, e.g. all zero after ReLU) gives
//              z[n] = 0 and valid[n] = 0. range[n] = (min, max) of up, so callers can
//              recover the unnormalised map as min + z·(max − min).
// The *_v4 entries need hw % 4 == 0 (so no vec4 straddles two channels) and count in vec4s.
// The min/max reduction uses one workgroup per image so the normalisation can follow in the
// same dispatch after a barrier: per-image statistics never leave the GPU and cost one dispatch.

struct Params {
  N: u32,
  C: u32,
  // h·w in elements (scalar entries) or vec4s (v4 entries).
  hw: u32,
  h: u32,
  w: u32,
  H: u32,
  W: u32,
  inv_hw: f32,
  // f32(h)/f32(H) and f32(w)/f32(W), rounded once on the host like PyTorch's float scale.
  scale_y: f32,
  scale_x: f32,
  min_range: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> A4: array<vec4f>;
@group(0) @binding(3) var<storage, read> dA: array<f32>;
@group(0) @binding(4) var<storage, read> dA4: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> alpha_out: array<f32>;
@group(0) @binding(6) var<storage, read> alpha_in: array<f32>;
@group(0) @binding(7) var<storage, read_write> cam_out: array<f32>;
@group(0) @binding(8) var<storage, read> cam_in: array<f32>;
@group(0) @binding(9) var<storage, read_write> z: array<f32>;
@group(0) @binding(10) var<storage, read_write> minmax: array<vec2f>;
@group(0) @binding(11) var<storage, read_write> valid: array<u32>;

override WG: u32 = 64u;

#include "flat_id.wgsl"

// One invocation per (n,c): the hw values are contiguous.
@compute @workgroup_size(WG)
fn gc_alpha(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N * p.C) { return; }
  let base = i * p.hw;
  var s = 0.0;
  for (var k = 0u; k < p.hw; k++) { s += dA[base + k]; }
  alpha_out[i] = s * p.inv_hw;
}

@compute @workgroup_size(WG)
fn gc_alpha_v4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N * p.C) { return; }
  let base = i * p.hw;
  // Four interleaved partial sums: a quarter of the sequential chain, so a quarter of the
  // worst-case rounding error as well as of the loads.
  var s = vec4f(0.0);
  for (var k = 0u; k < p.hw; k++) { s += dA4[base + k]; }
  alpha_out[i] = ((s.x + s.y) + (s.z + s.w)) * p.inv_hw;
}

// One invocation per (n, pixel): Σ over channels, stride hw.
@compute @workgroup_size(WG)
fn gc_cam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N * p.hw) { return; }
  let n = i / p.hw;
  let q = i - n * p.hw;
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) {
    s = fma(alpha_in[n * p.C + c], A[(n * p.C + c) * p.hw + q], s);
  }
  cam_out[i] = max(s, 0.0);
}

// One invocation per (n, 4 consecutive pixels).
@compute @workgroup_size(WG)
fn gc_cam_v4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N * p.hw) { return; }
  let n = i / p.hw;
  let q = i - n * p.hw;
  var s = vec4f(0.0);
  for (var c = 0u; c < p.C; c++) {
    s = fma(vec4f(alpha_in[n * p.C + c]), A4[(n * p.C + c) * p.hw + q], s);
  }
  let o = max(s, vec4f(0.0));
  cam_out[4u * i] = o.x;
  cam_out[4u * i + 1u] = o.y;
  cam_out[4u * i + 2u] = o.z;
  cam_out[4u * i + 3u] = o.w;
}

struct Taps { i0: u32, i1: u32, l0: f32, l1: f32 }

// PyTorch's area_pixel_compute_source_index (align_corners=False, not cubic) and the linear
// index/weight rule of upsample_bilinear2d: src = scale·(dst + 0.5) − 0.5 clamped below at 0,
// i0 = floor(src), i1 = i0 + 1 except at the last row/column (edge clamp), l1 = src − i0.
fn taps(scale: f32, dst: u32, in_size: u32) -> Taps {
  let src = max(scale * (f32(dst) + 0.5) - 0.5, 0.0);
  // src < in_size − 0.5 for every dst < out_size, so the min() only guards rounding.
  let i0 = min(u32(src), in_size - 1u);
  let i1 = select(i0, i0 + 1u, i0 < in_size - 1u);
  let l1 = src - f32(i0);
  return Taps(i0, i1, 1.0 - l1, l1);
}

var<workgroup> red: array<vec2f, WG>;

// One workgroup per image n (workgroup id x); lanes stride over the H·W output pixels.
@compute @workgroup_size(WG)
fn gc_upsample_norm(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  let P = p.H * p.W;
  let out_base = n * P;
  let in_base = n * p.h * p.w;
  var lo = 3.4028234e38;
  var hi = -3.4028234e38;
  for (var q = lid; q < P; q += WG) {
    let Y = q / p.W;
    let X = q - Y * p.W;
    let ty = taps(p.scale_y, Y, p.h);
    let tx = taps(p.scale_x, X, p.w);
    let r0 = in_base + ty.i0 * p.w;
    let r1 = in_base + ty.i1 * p.w;
    // Same nesting as PyTorch's separable kernel: rows first, then the column blend.
    let top = tx.l0 * cam_in[r0 + tx.i0] + tx.l1 * cam_in[r0 + tx.i1];
    let bot = tx.l0 * cam_in[r1 + tx.i0] + tx.l1 * cam_in[r1 + tx.i1];
    let v = ty.l0 * top + ty.l1 * bot;
    z[out_base + q] = v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  red[lid] = vec2f(lo, hi);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      let a = red[lid];
      let b = red[lid + s];
      red[lid] = vec2f(min(a.x, b.x), max(a.y, b.y));
    }
    workgroupBarrier();
  }
  let mm = red[0];
  let r = mm.y - mm.x;
  // `>=` is false for NaN, so a NaN range (NaN in the CAM) also marks the image invalid.
  let ok = r >= p.min_range;
  // Each lane rewrites only the pixels it wrote above, so no cross-lane storage barrier is needed.
  for (var q = lid; q < P; q += WG) {
    let i = out_base + q;
    z[i] = select(0.0, clamp((z[i] - mm.x) / r, 0.0, 1.0), ok);
  }
  if (lid == 0u) {
    minmax[n] = mm;
    valid[n] = select(0u, 1u, ok);
  }
}
