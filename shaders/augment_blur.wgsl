// bokeh-blur: a Gaussian blur of the background only, composited under the sector, on
// masked-subset samples. Mask-normalised so sector pixels never bleed into the background:
//   bg'(p) = Σ_q g(p−q)·(1−m_q)·v_q / Σ_q g(p−q)·(1−m_q),  g(d) = exp(−d²/(2σ²)), |d| ≤ R per axis.
// Both sums are separable: blur_h writes the row-blurred numerator and denominator to tmp,
// blur_v finishes the columns and writes background pixels of x (sector pixels keep their value).
// Pixels outside the image contribute nothing (the normalisation absorbs them).
//
// sdata: [B][sample_stride()] i32 (augment_sample.wgsl; only the flags word is read)
// mask:  [B][n] f32 augmented mask (1 = sector)
// x:     [B][n] f32, values in [0,1]
// tmp:   [B][2][n] f32
// gw:    [2R+1] f32 Gaussian taps

struct Params {
  batch: u32,
  radius: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> sdata: array<i32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> tmp: array<f32>;
// g(d) for d = −R..R, computed once on the host (exp per tap per pixel cost SwiftShader ~2×).
@group(0) @binding(5) var<storage, read> gw: array<f32>;

override S: u32 = 112u;
override WG: u32 = 128u;

#include "augment_sample.wgsl"

fn masked(b: u32) -> bool {
  return (hdr(b, H_FLAGS) & F_MASKED) != 0u;
}

fn gauss(d: i32) -> f32 {
  return gw[u32(d + i32(p.radius))];
}

fn blur_h_pixel(b: u32, q: u32) {
  let n = S * S;
  let y = q / S;
  let xq = i32(q % S);
  let r = i32(p.radius);
  var num = 0.0;
  var den = 0.0;
  for (var d = -r; d <= r; d++) {
    let xx = xq + d;
    if (xx < 0 || xx >= i32(S)) { continue; }
    let k = b * n + y * S + u32(xx);
    let w = gauss(d) * (1.0 - mask[k]);
    num += w * x[k];
    den += w;
  }
  tmp[(b * 2u) * n + q] = num;
  tmp[(b * 2u + 1u) * n + q] = den;
}

fn blur_v_pixel(b: u32, q: u32) {
  let n = S * S;
  if (mask[b * n + q] != 0.0) { return; }
  let yq = i32(q / S);
  let xq = q % S;
  let r = i32(p.radius);
  var num = 0.0;
  var den = 0.0;
  for (var d = -r; d <= r; d++) {
    let yy = yq + d;
    if (yy < 0 || yy >= i32(S)) { continue; }
    let k = u32(yy) * S + xq;
    let w = gauss(d);
    num += w * tmp[(b * 2u) * n + k];
    den += w * tmp[(b * 2u + 1u) * n + k];
  }
  // den ≥ g(0)·g(0) = 1 here: the pixel itself is background.
  x[b * n + q] = num / den;
}

// Launch shapes as in augment.wgsl: one invocation per pixel (real GPUs) or per image column
// looping down the rows (software GPUs).
@compute @workgroup_size(WG)
fn blur_h(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (gid.x >= S * S || wid.y >= p.batch || !masked(wid.y)) { return; }
  blur_h_pixel(wid.y, gid.x);
}

@compute @workgroup_size(WG)
fn blur_v(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  if (gid.x >= S * S || wid.y >= p.batch || !masked(wid.y)) { return; }
  blur_v_pixel(wid.y, gid.x);
}

@compute @workgroup_size(WG)
fn blur_h_cols(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x / S;
  if (b >= p.batch || !masked(b)) { return; }
  for (var y = 0u; y < S; y++) { blur_h_pixel(b, y * S + gid.x % S); }
}

@compute @workgroup_size(WG)
fn blur_v_cols(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x / S;
  if (b >= p.batch || !masked(b)) { return; }
  for (var y = 0u; y < S; y++) { blur_v_pixel(b, y * S + gid.x % S); }
}
