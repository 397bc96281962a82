// Sums along the outer and inner axes of an [outer, C, inner] f32 view, per middle index c:
//   out[c] = scale · Σ_{o<outer, i<inner} x[(o·C + c)·inner + i]   (+ out[c] with ACCUMULATE)
// This one shape covers every reduction wgml needs: NCHW per-channel sums (outer=N, inner=HW),
// row sums of [rows, cols] (outer=1, C=rows, inner=cols), column sums (outer=rows, C=cols,
// inner=1) and a flat sum (outer=1, C=1, inner=n).
//
// Two levels, no barriers (workgroup barriers are very slow on SwiftShader): partial gives
// each invocation one segment of `seg` consecutive elements of channel c's sequence
// j = o·inner + i and writes its sum to part[c·nseg + k]; final_sum folds channel c's nseg
// partials. With seg ≈ nseg ≈ √M (M = outer·inner) neither level is a long sequential f32 chain.
// Error bound (Higham's recursive-summation bound applied to each level): with the vec4 path's
// four interleaved lanes, |ŝ − s| ≤ (seg/4 + nseg/4 + 8)·u·Σ|x|, u = 2^-24, i.e. about
// (√M/2 + 8)·u·Σ|x| — 2.7e-5·Σ|x| worst case at M = 802,816 (typically ~1e-6·Σ|x|, since
// rounding errors are not all of one sign). The scalar path's bound is (seg + nseg/4 + 8)·u·Σ|x|.
// With nseg = 1 (DIRECT) the partial pass writes the scaled result itself.
//
// Units: this file is compiled per unit type V (see unit_v4.wgsl): reduce_v4.wgsl indexes x as
// vec4s and needs inner % 4 == 0 (so a vec4 never crosses a channel), Params.inner, M and seg
// then count vec4s; reduce_s.wgsl takes any inner.

struct Params {
  C: u32,
  inner: u32,
  M: u32,
  seg: u32,
  nseg: u32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
// Partial sums [C·nseg], or the result [C] itself when DIRECT.
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<storage, read> partIn: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 64u;
override DIRECT: bool = false;
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"
#include "segments.wgsl"

fn store_partial(id: u32, s: f32) {
  if (DIRECT) {
    var v = s * p.scale;
    if (ACCUMULATE) { v += part[id]; }
    part[id] = v;
  } else {
    part[id] = s;
  }
}

@compute @workgroup_size(WG)
fn partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.C * p.nseg) { return; }
  let c = id / p.nseg;
  var acc = V(0.0);
  var sg = segment_start(id, c);
  while (sg.j < sg.jend) {
    let r = segment_run(&sg, c);
    for (var t = 0u; t < r.y; t++) { acc += x[r.x + t]; }
  }
  store_partial(id, hsum(acc));
}

// out[c] = scale · Σ_k partIn[c·nseg + k] (+ out[c]); four interleaved accumulators.
@compute @workgroup_size(WG)
fn final_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  if (c >= p.C) { return; }
  let base = c * p.nseg;
  var acc = vec4f(0.0);
  var k = 0u;
  for (; k + 4u <= p.nseg; k += 4u) {
    acc += vec4f(partIn[base + k], partIn[base + k + 1u], partIn[base + k + 2u], partIn[base + k + 3u]);
  }
  var s = (acc.x + acc.y) + (acc.z + acc.w);
  for (; k < p.nseg; k++) { s += partIn[base + k]; }
  s *= p.scale;
  if (ACCUMULATE) { s += out[c]; }
  out[c] = s;
}
