// conv2d forward (and input-gradient phases) with weight loads shared across a subgroup
// (adapters with a fixed subgroup size SG ≥ 4). The kernel is conv2d_forward.wgsl; this file
// supplies its weight loads. Every lane of a subgroup has the same output-channel tile and the
// same step sequence (the launcher pads each channel tile's column tiles to whole subgroups),
// so they all need the same NT·COTV weight vec4s per step: each is loaded by one lane and
// broadcast. The broadcasts run in subgroup-uniform control flow (the early return at the top
// exits whole subgroups), which WGSL's uniformity analysis cannot see, hence the diagnostic.
enable subgroups;
diagnostic(off, subgroup_uniformity);

#include "conv2d_forward.wgsl"

// Weight vec4 v = k·COTV + c of a step (tap k, channels 4c…4c+3) sits at Wt[wb + k·OV + c].
const NV: u32 = NT * COTV;
// Loads per lane and step: in round r lane t loads v = r·SG + t (the last one repeated).
const ROUNDS: u32 = (NV + SG - 1u) / SG;

fn laneOffset(r: u32, lane: u32) -> u32 {
  let v = min(r * SG + lane, NV - 1u);
  return (v / COTV) * p.OV + v % COTV;
}

// This lane's offsets (from the step's first weight vec4) of rounds 0…3.
fn weightLanes(lane: u32) -> vec4u {
  return vec4u(laneOffset(0u, lane), laneOffset(1u, lane), laneOffset(2u, lane), laneOffset(3u, lane));
}

// The step's weights: w[c] column k = tap k's weights of output channels 4c…4c+3.
fn stepWeights(wb: u32, wl: vec4u) -> array<mat4x4f, 4> {
  var L: array<vec4f, 4>;
  L[0] = Wt[wb + wl.x];
  if (ROUNDS > 1u) { L[1] = Wt[wb + wl.y]; }
  if (ROUNDS > 2u) { L[2] = Wt[wb + wl.z]; }
  if (ROUNDS > 3u) { L[3] = Wt[wb + wl.w]; }
  var w: array<mat4x4f, 4>;
  w[0][0] = subgroupBroadcast(L[min((0u * COTV + 0u) / SG, 3u)], (0u * COTV + 0u) % SG);
  if (NT > 1u) { w[0][1] = subgroupBroadcast(L[min((1u * COTV + 0u) / SG, 3u)], (1u * COTV + 0u) % SG); }
  if (NT > 2u) { w[0][2] = subgroupBroadcast(L[min((2u * COTV + 0u) / SG, 3u)], (2u * COTV + 0u) % SG); }
  if (NT > 3u) { w[0][3] = subgroupBroadcast(L[min((3u * COTV + 0u) / SG, 3u)], (3u * COTV + 0u) % SG); }
  if (COTV > 1u) { w[1][0] = subgroupBroadcast(L[min((0u * COTV + 1u) / SG, 3u)], (0u * COTV + 1u) % SG); }
  if (COTV > 1u && NT > 1u) { w[1][1] = subgroupBroadcast(L[min((1u * COTV + 1u) / SG, 3u)], (1u * COTV + 1u) % SG); }
  if (COTV > 1u && NT > 2u) { w[1][2] = subgroupBroadcast(L[min((2u * COTV + 1u) / SG, 3u)], (2u * COTV + 1u) % SG); }
  if (COTV > 1u && NT > 3u) { w[1][3] = subgroupBroadcast(L[min((3u * COTV + 1u) / SG, 3u)], (3u * COTV + 1u) % SG); }
  if (COTV > 2u) { w[2][0] = subgroupBroadcast(L[min((0u * COTV + 2u) / SG, 3u)], (0u * COTV + 2u) % SG); }
  if (COTV > 2u && NT > 1u) { w[2][1] = subgroupBroadcast(L[min((1u * COTV + 2u) / SG, 3u)], (1u * COTV + 2u) % SG); }
  if (COTV > 2u && NT > 2u) { w[2][2] = subgroupBroadcast(L[min((2u * COTV + 2u) / SG, 3u)], (2u * COTV + 2u) % SG); }
  if (COTV > 2u && NT > 3u) { w[2][3] = subgroupBroadcast(L[min((3u * COTV + 2u) / SG, 3u)], (3u * COTV + 2u) % SG); }
  if (COTV > 3u) { w[3][0] = subgroupBroadcast(L[min((0u * COTV + 3u) / SG, 3u)], (0u * COTV + 3u) % SG); }
  if (COTV > 3u && NT > 1u) { w[3][1] = subgroupBroadcast(L[min((1u * COTV + 3u) / SG, 3u)], (1u * COTV + 3u) % SG); }
  if (COTV > 3u && NT > 2u) { w[3][2] = subgroupBroadcast(L[min((2u * COTV + 3u) / SG, 3u)], (2u * COTV + 3u) % SG); }
  if (COTV > 3u && NT > 3u) { w[3][3] = subgroupBroadcast(L[min((3u * COTV + 3u) / SG, 3u)], (3u * COTV + 3u) % SG); }
  return w;
}
