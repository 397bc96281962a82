// conv2d weight gradient with dy loads shared across a subgroup (adapters with a fixed
// subgroup size SG ≥ 4). The kernel is conv2d_backward_weight.wgsl; this file supplies its dy
// loads. Every lane of a subgroup has the same output-channel tile, row chunk and loop trip
// counts (the launcher pads each (cot, chunk) to whole subgroups), so they all need the same
// COT dy vec4s per column: each is loaded by one lane and broadcast. The broadcasts run in
// subgroup-uniform control flow (the early return at the top exits whole subgroups), which
// WGSL's uniformity analysis cannot see across the per-invocation id, hence the diagnostic.
enable subgroups;
diagnostic(off, subgroup_uniformity);

#include "conv2d_backward_weight.wgsl"

// The COT dy vec4s of column j as matrix columns: lane c < COT loads channel c's (the others
// repeat the last), every lane takes all COT by broadcast. Sharing one load across two
// columns (lanes 4–7 loading column j + 1) ran 1.3–2× slower on lavapipe: bigger unrolled
// body, and rows padded to even widths (bench/results/conv-ab-dw-subgroup-lavapipe.md).
fn dyColumn(b: vec4u, j: u32, lane: u32) -> mat4x4f {
  let c = min(lane, COT - 1u);
  let row = select(select(select(b.x, b.y, c == 1u), b.z, c == 2u), b.w, c == 3u);
  let v = DY[row + j];
  var d = mat4x4f();
  d[0] = subgroupBroadcast(v, 0u);
  if (COT > 1u) { d[1] = subgroupBroadcast(v, 1u); }
  if (COT > 2u) { d[2] = subgroupBroadcast(v, 2u); }
  if (COT > 3u) { d[3] = subgroupBroadcast(v, 3u); }
  return d;
}
