// Elementwise f32 ops over flat arrays. A 2-D grid covers more than 65535 workgroups:
// i = gid.x + gid.y · (num_workgroups.x · WG).

struct Params { n: u32, a: f32, b: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 128u;

#include "flat_id.wgsl"

// out = a·x + b·y
@compute @workgroup_size(WG)
fn axpby(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = fma(p.a, x[i], p.b * y[i]);
}

// out = x · y
@compute @workgroup_size(WG)
fn mul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = x[i] * y[i];
}

// out = max(x, 0), written as a select so NaN passes through (max(NaN, 0) may give 0 on some
// drivers, which would hide a diverged run from the loss check) — as PyTorch's relu does.
@compute @workgroup_size(WG)
fn relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = select(x[i], 0.0, x[i] < 0.0);
}

// out = dy where x > 0 else 0, with x the ReLU input (or output: same sign pattern) and y = dy.
@compute @workgroup_size(WG)
fn relu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = select(0.0, y[i], x[i] > 0.0);
}

// out += a·x  (gradient accumulation into an existing buffer)
@compute @workgroup_size(WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = fma(p.a, x[i], out[i]);
}

// out = a
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = p.a;
}
