// 2-D max pooling (any kernel, stride and padding; floor output size) with argmax indices, and
// the backward of global average pooling. NCHW f32; a "plane" is one (n, c).
//
// maxpool_fwd: one output per window. Padding acts as −inf (padded positions are skipped).
// The scan runs kh-major then kw, and a value replaces the running maximum only if it is
// strictly greater (or NaN), so ties go to the first maximum in scan order — PyTorch's CPU rule;
// the index starts at the window's first in-bounds position, as in PyTorch, so an all −inf
// window still points inside it. indices hold h·W + w within the input plane, like PyTorch's
// return_indices.
// maxpool_bwd: a gather, per input element, summing the dy of every window whose
// argmax it is (no float atomics). Windows are visited in increasing output order, the order in
// which PyTorch's CPU backward scatters, so the sums round the same way.
// gap_bwd_*: dx[plane, i] = scale·dy[plane] (+ dx with ACCUMULATE); global average pooling's
// forward is a row sum in reduce.wgsl.

struct Params {
  planes: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  // gap_bwd: invocations, chunks of CH units per plane, and 1/(H·W).
  total: u32,
  chunks: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> indicesIn: array<u32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx4: array<vec4f>;

override WG: u32 = 64u;
override CH: u32 = 4u;
override ACCUMULATE: bool = false;
// Pooling window: constants rather than uniforms, so the divisions by the stride compile to
// multiplies (a runtime u32 division is a scalar loop over the lanes on the CPU drivers).
override KH: u32 = 3u;
override KW: u32 = 3u;
override SH: u32 = 2u;
override SW: u32 = 2u;
override PH: u32 = 1u;
override PW: u32 = 1u;
// Windows covering one input along each axis: at most ⌈K/S⌉.
override NWH: u32 = (KH + SH - 1u) / SH;
override NWW: u32 = (KW + SW - 1u) / SW;

#include "flat_id.wgsl"

// WGSL lets compilers assume floats are never NaN (lavapipe and SwiftShader fold v != v to
// false), so test the bits.
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }


struct Max { best: f32, arg: u32 }

// The maximum of output (oh, ow)'s window in the plane at base, and where it is.
fn windowMax(base: u32, oh: u32, ow: u32) -> Max {
  // Window origin in input coordinates (may be negative by up to the padding).
  let h0 = i32(oh * SH) - i32(PH);
  let w0 = i32(ow * SW) - i32(PW);
  let hs = u32(max(h0, 0));
  let ws = u32(max(w0, 0));
  // Starting from the first in-bounds value is the same as starting from −inf (it replaces −inf
  // in PyTorch's scan, and rescanning it changes nothing); pad ≤ kernel/2 keeps windows non-empty.
  var arg = hs * p.W + ws;
  var best = x[base + arg];
  var bestNaN = is_nan(best);
  // The whole KH×KW window with clamped loads and a validity test, instead of per-lane loop
  // bounds (lanes of a CPU driver's SIMD group then run the same trip count); out-of-bounds
  // positions never win, so the scan order and the result are those of the clipped window.
  let hMax = i32(p.H) - 1;
  let wMax = i32(p.W) - 1;
  for (var a = 0u; a < KH; a++) {
    let h = h0 + i32(a);
    let hIn = h >= 0 && h <= hMax;
    let row = u32(clamp(h, 0, hMax)) * p.W;
    for (var b = 0u; b < KW; b++) {
      let w = w0 + i32(b);
      let q = row + u32(clamp(w, 0, wMax));
      let v = x[base + q];
      let vNaN = is_nan(v);
      // Once the maximum is NaN only a later NaN replaces it, as with IEEE compares in PyTorch.
      let take = hIn && w >= 0 && w <= wMax && (vNaN || (!bestNaN && v > best));
      best = select(best, v, take);
      arg = select(arg, q, take);
      bestNaN = select(bestNaN, vNaN, take);
    }
  }
  return Max(best, arg);
}

// One invocation per output row (plane, oh), its OW outputs in a loop: the runtime divisions
// that locate a row (a per-lane loop on the CPU drivers) run once per row, not per output.
@compute @workgroup_size(WG)
fn maxpool_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.planes * p.OH) { return; }
  let plane = id / p.OH;
  let oh = id - plane * p.OH;
  let base = plane * p.H * p.W;
  for (var ow = 0u; ow < p.OW; ow++) {
    let m = windowMax(base, oh, ow);
    y[id * p.OW + ow] = m.best;
    indices[id * p.OW + ow] = m.arg;
  }
}

// dx of input (h, w) in the plane whose outputs start at obase: the dy of every window whose
// argmax it is.
fn gradAt(obase: u32, h: u32, w: u32) -> f32 {
  let me = h * p.W + w;
  // Outputs whose window covers (h, w): oh·SH − PH ≤ h ≤ oh·SH − PH + KH − 1.
  let hp = h + PH;
  let wp = w + PW;
  let oh0 = select(0u, (hp + 1u - KH + SH - 1u) / SH, hp + 1u >= KH);
  let ow0 = select(0u, (wp + 1u - KW + SW - 1u) / SW, wp + 1u >= KW);
  let oh1 = min(hp / SH + 1u, p.OH);
  let ow1 = min(wp / SW + 1u, p.OW);
  // Fixed trip counts with clamped loads and a select, instead of per-lane loop bounds and a
  // conditional load: 2.6× faster on lavapipe, same order of sums (non-hits add +0).
  var acc = 0.0;
  for (var a = 0u; a < NWH; a++) {
    let oh = oh0 + a;
    for (var b = 0u; b < NWW; b++) {
      let ow = ow0 + b;
      let o = obase + min(oh, p.OH - 1u) * p.OW + min(ow, p.OW - 1u);
      let hit = oh < oh1 && ow < ow1 && indicesIn[o] == me;
      acc += select(0.0, dy[o], hit);
    }
  }
  return acc;
}

// One invocation per input row (plane, h), its W inputs in a loop (see maxpool_fwd).
@compute @workgroup_size(WG)
fn maxpool_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.planes * p.H) { return; }
  let plane = id / p.H;
  let h = id - plane * p.H;
  let obase = plane * p.OH * p.OW;
  for (var w = 0u; w < p.W; w++) {
    var acc = gradAt(obase, h, w);
    if (ACCUMULATE) { acc += dx[id * p.W + w]; }
    dx[id * p.W + w] = acc;
  }
}

// Planes of H·W = 4·(units) elements, read as vec4s; p.W holds the units per plane.
@compute @workgroup_size(WG)
fn gap_bwd_v4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let plane = id / p.chunks;
  let s0 = (id - plane * p.chunks) * CH;
  let s1 = min(s0 + CH, p.W);
  let g = vec4f(dy[plane] * p.scale);
  let base = plane * p.W;
  for (var s = s0; s < s1; s++) {
    var v = g;
    if (ACCUMULATE) { v += dx4[base + s]; }
    dx4[base + s] = v;
  }
}

@compute @workgroup_size(WG)
fn gap_bwd_s(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let plane = id / p.chunks;
  let s0 = (id - plane * p.chunks) * CH;
  let s1 = min(s0 + CH, p.W);
  let g = dy[plane] * p.scale;
  let base = plane * p.W;
  for (var s = s0; s < s1; s++) {
    var v = g;
    if (ACCUMULATE) { v += dx[base + s]; }
    dx[base + s] = v;
  }
}
