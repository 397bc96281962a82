// conv2d forward (and input-gradient phases) with every invocation loading its own weights (any
// adapter). The kernel is conv2d_forward.wgsl; this file supplies its weight loads.
#include "conv2d_forward.wgsl"

fn weightLanes(lane: u32) -> vec4u { return vec4u(0u); }

// Tap k's weights of output channels 4c…4c+3 as column k (weights of a step: NT taps × OV vec4s).
fn tapWeights(base: u32, c: u32) -> mat4x4f {
  var w = mat4x4f();
  w[0] = Wt[base + c];
  if (NT > 1u) { w[1] = Wt[base + p.OV + c]; }
  if (NT > 2u) { w[2] = Wt[base + 2u * p.OV + c]; }
  if (NT > 3u) { w[3] = Wt[base + 3u * p.OV + c]; }
  return w;
}

// The step's weights: w[c] column k = tap k's weights of output channels 4c…4c+3.
fn stepWeights(wb: u32, wl: vec4u) -> array<mat4x4f, 4> {
  var w: array<mat4x4f, 4>;
  w[0] = tapWeights(wb, 0u);
  if (COTV > 1u) { w[1] = tapWeights(wb, 1u); }
  if (COTV > 2u) { w[2] = tapWeights(wb, 2u); }
  if (COTV > 3u) { w[3] = tapWeights(wb, 3u); }
  return w;
}
