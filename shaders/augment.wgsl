// Training-time augmentation and background compositing, one invocation per output pixel.
// Reproduces the BackMix reference pipeline (albumentations on uint8, then numpy):
//   rotate (OpenCV fixed-point bicubic, replicate border; mask: nearest) → horizontal flip →
//   brightness/contrast LUT → background method on masked-subset samples → clip → /255.
// The per-image z-score runs afterwards (augment_zscore.wgsl).
//
// frames: [slots][FW] u32, four u8 pixels per word (pixel q in byte q & 3 of word q >> 2)
// masks:  [slots][MW] u32, one bit per pixel (pixel q is bit q & 31 of word q >> 5), 1 = sector
// sdata:  [B][sample_stride()] i32 per sample, laid out in augment_sample.wgsl
// cubic:  [1024][4] vec4<i32>, OpenCV's fixed-point bicubic weights per fractional position
// noise:  [S·S] f32, the fixed U(0,30) field (noise method only)
// x:      [B][S·S] f32 out, values in [0, 1]
// mask_out: [B][S·S] f32 out, the augmented sector mask (0/1), written when p.out_mask != 0

struct Params {
  batch: u32,
  out_mask: u32,
  // Feistel half width h: the permutation domain is 2^(2h) ≥ S·S.
  half_bits: u32,
  bokeh: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> frames: array<u32>;
@group(0) @binding(2) var<storage, read> masks: array<u32>;
@group(0) @binding(3) var<storage, read> sdata: array<i32>;
@group(0) @binding(4) var<storage, read> cubic: array<vec4<i32>>;
@group(0) @binding(5) var<storage, read> noise: array<f32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> mask_out: array<f32>;

override S: u32 = 112u;
override METHOD: u32 = 0u;
override WG: u32 = 128u;

// Values of the METHOD override; src/backmix/methods.ts reads them (M_ + the method name).
const M_NONE: u32 = 0u;
const M_BACKMIX: u32 = 1u;
const M_BLACK: u32 = 2u;
const M_NOISE: u32 = 3u;
const M_SHUFFLE: u32 = 4u;
const M_BOKEH: u32 = 5u;
const M_BOKEH_BLUR: u32 = 6u;
const M_CUTMIX: u32 = 7u;

#include "augment_sample.wgsl"

fn npx() -> u32 { return S * S; }
fn frame_words() -> u32 { return (S * S + 3u) / 4u; }
fn mask_words() -> u32 { return (S * S + 31u) / 32u; }

fn frame_px(slot: u32, q: u32) -> i32 {
  let w = frames[slot * frame_words() + (q >> 2u)];
  return i32((w >> ((q & 3u) * 8u)) & 255u);
}

fn mask_px(slot: u32, q: u32) -> u32 {
  return (masks[slot * mask_words() + (q >> 5u)] >> (q & 31u)) & 1u;
}

// Column of the rotated image that output column xo shows (the flip follows the rotation).
fn rot_col(b: u32, xo: u32) -> u32 {
  return select(xo, S - 1u - xo, (hdr(b, H_FLAGS) & F_FLIP) != 0u);
}

// OpenCV warpAffine INTER_CUBIC + BORDER_REPLICATE on u8, at rotated-image pixel (xr, y).
fn rotated_value(b: u32, xr: u32, y: u32) -> u32 {
  let o = b * sample_stride() + H_WORDS;
  let X = (sdata[o + WARP_X0 * S + y] + 16 + sdata[o + WARP_ADELTA * S + xr]) >> 5u;
  let Y = (sdata[o + WARP_Y0 * S + y] + 16 + sdata[o + WARP_BDELTA * S + xr]) >> 5u;
  let sx = (X >> 5u) - 1;
  let sy = (Y >> 5u) - 1;
  let a = u32((Y & 31) * 32 + (X & 31));
  let slot = hdr(b, H_SOURCE);
  let hi = i32(S) - 1;
  let c0 = u32(clamp(sx, 0, hi));
  let c1 = u32(clamp(sx + 1, 0, hi));
  let c2 = u32(clamp(sx + 2, 0, hi));
  let c3 = u32(clamp(sx + 3, 0, hi));
  var sum = 0;
  for (var ky = 0; ky < 4; ky++) {
    let row = u32(clamp(sy + ky, 0, hi)) * S;
    let w = cubic[a * 4u + u32(ky)];
    sum += w.x * frame_px(slot, row + c0) + w.y * frame_px(slot, row + c1) + w.z * frame_px(slot, row + c2) + w.w * frame_px(slot, row + c3);
  }
  return u32(clamp((sum + 16384) >> 15u, 0, 255));
}

// Augmented frame value at output pixel (xo, y): rotate, flip, brightness/contrast LUT.
fn aug_value(b: u32, xo: u32, y: u32) -> f32 {
  let v = rotated_value(b, rot_col(b, xo), y);
  let w = bitcast<u32>(sdata[b * sample_stride() + H_WORDS + WARP_TABLES * S + (v >> 2u)]);
  return f32((w >> ((v & 3u) * 8u)) & 255u);
}

// Augmented mask at output pixel (xo, y): OpenCV INTER_NEAREST, replicate border, then flip.
fn aug_mask(b: u32, xo: u32, y: u32) -> u32 {
  if ((hdr(b, H_FLAGS) & F_HAS_MASK) == 0u) { return 0u; }
  let xr = rot_col(b, xo);
  let o = b * sample_stride() + H_WORDS;
  let X = (sdata[o + WARP_X0 * S + y] + 512 + sdata[o + WARP_ADELTA * S + xr]) >> 10u;
  let Y = (sdata[o + WARP_Y0 * S + y] + 512 + sdata[o + WARP_BDELTA * S + xr]) >> 10u;
  let hi = i32(S) - 1;
  let q = u32(clamp(Y, 0, hi)) * S + u32(clamp(X, 0, hi));
  return mask_px(hdr(b, H_SOURCE), q);
}

// MurmurHash3 fmix32.
fn fmix32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}

// A keyed bijection on [0, 2^(2h)): a 4-round balanced Feistel network with fmix32 rounds.
fn feistel(v: u32, key: u32) -> u32 {
  let h = p.half_bits;
  let m = (1u << h) - 1u;
  var l = v >> h;
  var r = v & m;
  for (var i = 0u; i < 4u; i++) {
    let f = fmix32(r ^ fmix32(key + i * 0x9e3779b9u)) & m;
    let t = l ^ f;
    l = r;
    r = t;
  }
  return (l << h) | r;
}

// Noise: position q reads the field at π(q), π the Feistel bijection restricted to [0, S²)
// by cycle walking (a uniform-looking permutation of all positions, fresh per key).
fn noise_index(q: u32, key: u32) -> u32 {
  var t = feistel(q, key);
  for (var i = 0u; i < (1u << (2u * p.half_bits)) && t >= npx(); i++) { t = feistel(t, key); }
  return t;
}

// Shuffle: background position q takes the value at σ(q), σ the Feistel bijection restricted
// (by cycle walking) to the background positions of this sample's augmented mask, so σ is a
// permutation of the background: every background value is used exactly once.
fn shuffle_index(b: u32, q: u32, key: u32) -> u32 {
  var t = q;
  for (var i = 0u; i < (1u << (2u * p.half_bits)); i++) {
    t = feistel(t, key);
    if (t < npx()) {
      if (aug_mask(b, t % S, t / S) == 0u) { break; }
    }
  }
  return t;
}

// Output pixel (xo, y) of sample b.
fn augment_pixel(b: u32, xo: u32, y: u32) {
  let q = y * S + xo;
  let flags = hdr(b, H_FLAGS);
  var src = b;
  if (METHOD == M_CUTMIX && (flags & F_CUTMIX) != 0u) {
    let x1 = hdr(b, H_BOX);
    let y1 = hdr(b, H_BOX + 1u);
    let x2 = hdr(b, H_BOX + 2u);
    let y2 = hdr(b, H_BOX + 3u);
    if (xo >= x1 && xo < x2 && y >= y1 && y < y2) { src = hdr(b, H_PARTNER); }
  }
  var v = aug_value(src, xo, y);
  let m = aug_mask(src, xo, y);
  if (METHOD != M_NONE && METHOD != M_CUTMIX && METHOD != M_BOKEH_BLUR && (flags & F_MASKED) != 0u && m == 0u) {
    if (METHOD == M_BACKMIX) {
      let d = hdr(b, H_DONOR);
      v = select(f32(frame_px(d, q)), 0.0, mask_px(d, q) == 1u);
    } else if (METHOD == M_BLACK) {
      v = 0.0;
    } else if (METHOD == M_NOISE) {
      v = noise[noise_index(q, hdr(b, H_KEY))];
    } else if (METHOD == M_SHUFFLE) {
      let t = shuffle_index(b, q, hdr(b, H_KEY));
      v = aug_value(b, t % S, t / S);
    } else if (METHOD == M_BOKEH) {
      v = v * p.bokeh;
    }
  }
  x[b * npx() + q] = clamp(v, 0.0, 255.0) / 255.0;
  if (p.out_mask != 0u) { mask_out[b * npx() + q] = f32(m); }
}

// Two launch shapes with the same result (the launcher picks one per adapter): one invocation
// per pixel suits real GPUs (B·S² threads); one per image column looping down the rows is
// 1.3–1.6× faster on lavapipe (per-column values load once, adjacent lanes read adjacent
// pixels) and no slower on SwiftShader.
@compute @workgroup_size(WG)
fn augment(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let q = gid.x;
  let b = wid.y;
  if (q >= npx() || b >= p.batch) { return; }
  augment_pixel(b, q % S, q / S);
}

// One invocation per image column, looping down the rows.
@compute @workgroup_size(WG)
fn augment_cols(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  if (col >= p.batch * S) { return; }
  let b = col / S;
  let xo = col % S;
  for (var y = 0u; y < S; y++) { augment_pixel(b, xo, y); }
}

// Evaluation input: no augmentation, x = frame / 255 (the z-score follows); mask copied.
fn preprocess_pixel(b: u32, q: u32) {
  let slot = hdr(b, H_SOURCE);
  x[b * npx() + q] = f32(frame_px(slot, q)) / 255.0;
  if (p.out_mask != 0u) {
    mask_out[b * npx() + q] = select(0.0, f32(mask_px(slot, q)), (hdr(b, H_FLAGS) & F_HAS_MASK) != 0u);
  }
}

@compute @workgroup_size(WG)
fn preprocess(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let q = gid.x;
  let b = wid.y;
  if (q >= npx() || b >= p.batch) { return; }
  preprocess_pixel(b, q);
}

@compute @workgroup_size(WG)
fn preprocess_cols(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  if (col >= p.batch * S) { return; }
  let b = col / S;
  for (var y = 0u; y < S; y++) { preprocess_pixel(b, y * S + col % S); }
}
