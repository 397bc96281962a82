// Fused Adam / AdamW step over elements [offset, offset + n) of flat f32 buffers, following
// torch.optim.Adam / AdamW (single-tensor path) operation by operation:
//   g ← g + l2·p                        (Adam's weight_decay; l2 = 0 for AdamW)
//   p ← p·decay                         (AdamW: decay = 1 − lr·wd; Adam: 1)
//   m ← m + (1−β1)·(g − m)              (torch's exp_avg.lerp_(g, 1−β1))
//   v ← β2·v + (1−β2)·g²
//   p ← p − stepSize·m / (sqrt(v)/sqrtBc2 + eps),  stepSize = lr/(1−β1^t), sqrtBc2 = sqrt(1−β2^t)
// The bias corrections are computed on the host in float64 (β^t for t in the thousands loses
// digits in f32). A 2-D grid covers more than 65535 workgroups: i = gid.x + gid.y·nwg.x·WG.

struct Params {
  n: u32,
  offset: u32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  stepSize: f32,
  sqrtBc2: f32,
  eps: f32,
  l2: f32,
  decay: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

// The same buffers seen as vec4s (adam4): one load per four elements, which is what counts on
// lavapipe (each storage load is a per-lane loop there).
@group(0) @binding(5) var<storage, read_write> param4: array<vec4f>;
@group(0) @binding(6) var<storage, read> grad4: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> m14: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> m24: array<vec4f>;

override WG: u32 = 128u;

#include "flat_id.wgsl"

struct State { p: vec4f, m: vec4f, v: vec4f }

// Scalars go through as vec4 lanes too, so both entry points share one formula.
fn adam_step(p0: vec4f, g0: vec4f, m0: vec4f, v0: vec4f) -> State {
  let g = g0 + p.l2 * p0;
  let pd = p0 * p.decay;
  let m = fma(vec4f(p.oneMinusBeta1), g - m0, m0);
  let v = fma(vec4f(p.oneMinusBeta2), g * g, v0 * p.beta2);
  let denom = sqrt(v) / p.sqrtBc2 + p.eps;
  return State(pd - p.stepSize * (m / denom), m, v);
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let e = p.offset + i;
  let s = adam_step(vec4f(param[e]), vec4f(grad[e]), vec4f(m1[e]), vec4f(m2[e]));
  param[e] = s.p.x;
  m1[e] = s.m.x;
  m2[e] = s.v.x;
}

// Four elements per invocation; offset is a multiple of 4 and the buffers are bound whole, so
// the last vec4 may reach past n into the buffer's padding: those lanes are written back unchanged.
@compute @workgroup_size(WG)
fn adam4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_id(gid, nwg);
  let first = q * 4u;
  if (first >= p.n) { return; }
  let e = p.offset / 4u + q;
  let p0 = param4[e];
  let m0 = m14[e];
  let v0 = m24[e];
  let s = adam_step(p0, grad4[e], m0, v0);
  let live = vec4u(first) + vec4u(0u, 1u, 2u, 3u) < vec4u(p.n);
  param4[e] = select(p0, s.p, live);
  m14[e] = select(m0, s.m, live);
  m24[e] = select(v0, s.v, live);
}
