// conv2d weight gradient with every invocation loading its own dy (any adapter). The kernel is
// conv2d_backward_weight.wgsl; this file supplies its dy loads.
#include "conv2d_backward_weight.wgsl"

// The COT dy vec4s of column j.
fn dyColumn(b: DyRows, j: u32) -> DyCol {
  var d: DyCol;
  d.lo[0] = DY[b.lo.x + j];
  if (COT > 1u) { d.lo[1] = DY[b.lo.y + j]; }
  if (COT > 2u) { d.lo[2] = DY[b.lo.z + j]; }
  if (COT > 3u) { d.lo[3] = DY[b.lo.w + j]; }
  if (COT > 4u) { d.hi[0] = DY[b.hi.x + j]; }
  if (COT > 5u) { d.hi[1] = DY[b.hi.y + j]; }
  if (COT > 6u) { d.hi[2] = DY[b.hi.z + j]; }
  if (COT > 7u) { d.hi[3] = DY[b.hi.w + j]; }
  return d;
}
