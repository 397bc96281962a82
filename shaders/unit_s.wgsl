// Kernels written over a unit type V (see unit_v4.wgsl): here scalars, for any row length.
alias V = f32;

fn hsum(v: f32) -> f32 { return v; }

// s + a·b, rounded after the product as the scalar kernels always have.
fn add_prod(s: f32, a: f32, b: f32) -> f32 { return s + a * b; }
