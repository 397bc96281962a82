// Kernels written over a unit type V, compiled once per unit (batchnorm_v4.wgsl / _s,
// reduce_v4.wgsl / _s): here vec4s, four interleaved f32 lanes, for rows whose length is a
// multiple of 4, so that a vec4 never crosses a row.
alias V = vec4f;

// Lanes summed pairwise.
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

// s + a·b, fused: the vec4 kernels accumulate with fma.
fn add_prod(s: vec4f, a: vec4f, b: vec4f) -> vec4f { return fma(a, b, s); }
