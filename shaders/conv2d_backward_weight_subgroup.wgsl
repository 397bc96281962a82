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

// The COT dy vec4s of column j: lane c < COT loads channel c's (the others repeat the last;
// the launcher keeps COT ≤ SG), every lane takes all COT by broadcast. Sharing one load across
// two columns (lanes 4–7 loading column j + 1) ran 1.3–2× slower on lavapipe: bigger unrolled
// body, and rows padded to even widths (docs/DECISIONS.md).
fn dyColumn(b: DyRows, j: u32) -> DyCol {
  let v = DY[b.lane + j];
  var d: DyCol;
  d.lo[0] = subgroupBroadcast(v, 0u);
  if (COT > 1u) { d.lo[1] = subgroupBroadcast(v, 1u); }
  if (COT > 2u) { d.lo[2] = subgroupBroadcast(v, 2u); }
  if (COT > 3u) { d.lo[3] = subgroupBroadcast(v, 3u); }
  if (COT > 4u) { d.hi[0] = subgroupBroadcast(v, min(4u, SG - 1u)); }
  if (COT > 5u) { d.hi[1] = subgroupBroadcast(v, min(5u, SG - 1u)); }
  if (COT > 6u) { d.hi[2] = subgroupBroadcast(v, min(6u, SG - 1u)); }
  if (COT > 7u) { d.hi[3] = subgroupBroadcast(v, min(7u, SG - 1u)); }
  return d;
}
