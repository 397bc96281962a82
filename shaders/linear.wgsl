// Bias kernels of the Linear layer (the products themselves run in shaders/matmul.wgsl).
// y, dy: [N,F] f32 row-major (F = out_features); b, db: [F].

struct Params { N: u32, F: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

override WG: u32 = 128u;
// bias_grad adds into db (gradient accumulation over micro-batches or shared parameters).
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"

// y[n,f] += b[f], one invocation per element; a 2-D grid covers more than 65535 workgroups.
@compute @workgroup_size(WG)
fn bias_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N * p.F) { return; }
  y[i] += b[i % p.F];
}

// db[f] (+)= Σ_n dy[n,f]. One invocation per feature walks the batch: F·N is small for a
// classifier head (512→4 here), and a per-feature serial sum needs no barrier.
@compute @workgroup_size(WG)
fn bias_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let f = flat_id(gid, nwg);
  if (f >= p.F) { return; }
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) { s += dy[n * p.F + f]; }
  if (ACCUMULATE) { s += db[f]; }
  db[f] = s;
}
