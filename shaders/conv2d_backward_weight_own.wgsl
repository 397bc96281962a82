// conv2d weight gradient with every invocation loading its own dy (any adapter). The kernel is
// conv2d_backward_weight.wgsl; this file supplies its dy loads.
#include "conv2d_backward_weight.wgsl"

// The COT dy vec4s of column j as matrix columns; b holds the rows of the (clamped) channels.
fn dyColumn(b: vec4u, j: u32, lane: u32) -> mat4x4f {
  var d = mat4x4f();
  d[0] = DY[b.x + j];
  if (COT > 1u) { d[1] = DY[b.y + j]; }
  if (COT > 2u) { d[2] = DY[b.z + j]; }
  if (COT > 3u) { d[3] = DY[b.w + j]; }
  return d;
}
