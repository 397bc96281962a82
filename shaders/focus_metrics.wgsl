// The BackMix paper's focus metrics (§2.4) on the GPU, two dispatches, no per-image readback.
//   z: [N,P] f32 CAM in [0,1] (P = H·W), m: [N,P] f32 sector mask (inside iff m > 0.5, so the
//   0/1 masks the preprocessing kernel writes work as they are).
//   fm_image (one workgroup per image) writes per_image[n] = (E_n, F_n):
//     E_n = Σ_{p∈mask} z_p / Σ_p z_p,   F_n = |{z_p > 0.5} ∩ mask| / |{z_p > 0.5}|,
//     −1 when excluded (valid[n] = 0, Σz = 0, or for F no z_p > 0.5),
//     −2 for both when include[n] = 0 (skipped: e.g. the image has no sector mask).
//   fm_batch (one workgroup) folds them into the STATS_LEN floats of stats (positions ST_*):
//     [Σ E_n, count_E, Σ F_n, count_F, excluded_E, excluded_F, skipped, images]
//   (+= the previous stats with ACCUMULATE, so an evaluation reads them once).
// Counts are exact: u32 in the reduction, f32 in stats (exact to 2^24 images).
// fm_image_v4 (P % 4 == 0) loads vec4s; Params.P stays in elements.

struct Params {
  N: u32,
  P: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> z4: array<vec4f>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> m4: array<vec4f>;
@group(0) @binding(5) var<storage, read> valid: array<u32>;
@group(0) @binding(6) var<storage, read> use_image: array<u32>;
@group(0) @binding(7) var<storage, read_write> per_image: array<vec2f>;
@group(0) @binding(8) var<storage, read> per_in: array<vec2f>;
@group(0) @binding(9) var<storage, read_write> stats: array<f32>;

override WG: u32 = 64u;
// Without these buffers every image is valid / included; the bindings are then unused.
override HAS_VALID: bool = false;
override HAS_INCLUDE: bool = false;
override ACCUMULATE: bool = false;

// per_image values; focusSummary and the tests read these constants.
const EXCLUDED: f32 = -1.0;
const SKIPPED: f32 = -2.0;

// Positions in stats (src/kernels/focus_metrics.ts reads them).
const ST_SUM_E: u32 = 0u;
const ST_COUNT_E: u32 = 1u;
const ST_SUM_F: u32 = 2u;
const ST_COUNT_F: u32 = 3u;
const ST_EXCLUDED_E: u32 = 4u;
const ST_EXCLUDED_F: u32 = 5u;
const ST_SKIPPED: u32 = 6u;
const ST_IMAGES: u32 = 7u;
const STATS_LEN: u32 = 8u;

// (Σz, Σ_{mask} z) and (#{z > 0.5}, #{z > 0.5 in mask}) per lane, then per workgroup.
var<workgroup> red_s: array<vec2f, WG>;
var<workgroup> red_c: array<vec2u, WG>;

@compute @workgroup_size(WG)
fn fm_image(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  let base = n * p.P;
  var s = vec2f(0.0);
  var c = vec2u(0u);
  for (var q = lid; q < p.P; q += WG) {
    let v = z[base + q];
    let inside = m[base + q] > 0.5;
    s += vec2f(v, select(0.0, v, inside));
    let hot = select(0u, 1u, v > 0.5);
    c += vec2u(hot, select(0u, hot, inside));
  }
  finish_image(n, lid, s, c);
}

// P % 4 == 0: vec4 loads.
@compute @workgroup_size(WG)
fn fm_image_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  let P4 = p.P / 4u;
  let base = n * P4;
  // Four interleaved partial sums per invocation: a quarter of the sequential chain.
  var sz = vec4f(0.0);
  var szm = vec4f(0.0);
  var c = vec2u(0u);
  for (var q = lid; q < P4; q += WG) {
    let v = z4[base + q];
    let inside = m4[base + q] > vec4f(0.5);
    sz += v;
    szm += select(vec4f(0.0), v, inside);
    let h = select(vec4u(0u), vec4u(1u), v > vec4f(0.5));
    let hm = select(vec4u(0u), h, inside);
    c += vec2u((h.x + h.y) + (h.z + h.w), (hm.x + hm.y) + (hm.z + hm.w));
  }
  let s = vec2f((sz.x + sz.y) + (sz.z + sz.w), (szm.x + szm.y) + (szm.z + szm.w));
  finish_image(n, lid, s, c);
}

// Tree-reduces the lanes' sums and counts, then lane 0 writes (E_n, F_n).
fn finish_image(n: u32, lid: u32, s: vec2f, c: vec2u) {
  red_s[lid] = s;
  red_c[lid] = c;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      red_s[lid] += red_s[lid + k];
      red_c[lid] += red_c[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t = red_s[0];
    let u = red_c[0];
    var ok = true;
    if (HAS_VALID) { ok = valid[n] != 0u; }
    let e = select(EXCLUDED, t.y / t.x, ok && t.x > 0.0);
    let f = select(EXCLUDED, f32(u.y) / f32(u.x), ok && u.x > 0u);
    var out = vec2f(e, f);
    if (HAS_INCLUDE) {
      if (use_image[n] == 0u) { out = vec2f(SKIPPED); }
    }
    per_image[n] = out;
  }
}

// (Σ E, Σ F), (count_E, count_F, excluded_E, excluded_F), skipped.
var<workgroup> bat_s: array<vec2f, WG>;
var<workgroup> bat_c: array<vec4u, WG>;
var<workgroup> bat_k: array<u32, WG>;

// One workgroup for the batch: N is a batch size, so one pass of WG lanes plus a log2(WG)
// tree costs less than another dispatch level.
@compute @workgroup_size(WG)
fn fm_batch(@builtin(local_invocation_index) lid: u32) {
  var s = vec2f(0.0);
  var c = vec4u(0u);
  var k = 0u;
  for (var n = lid; n < p.N; n += WG) {
    let ef = per_in[n];
    if (ef.x == SKIPPED) {
      k += 1u;
      continue;
    }
    let has = ef >= vec2f(0.0);
    s += select(vec2f(0.0), ef, has);
    c += vec4u(select(vec2u(0u), vec2u(1u), has), select(vec2u(1u), vec2u(0u), has));
  }
  bat_s[lid] = s;
  bat_c[lid] = c;
  bat_k[lid] = k;
  workgroupBarrier();
  for (var r = WG / 2u; r > 0u; r = r / 2u) {
    if (lid < r) {
      bat_s[lid] += bat_s[lid + r];
      bat_c[lid] += bat_c[lid + r];
      bat_k[lid] += bat_k[lid + r];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t = bat_s[0];
    let u = bat_c[0];
    var out: array<f32, STATS_LEN>;
    out[ST_SUM_E] = t.x;
    out[ST_COUNT_E] = f32(u.x);
    out[ST_SUM_F] = t.y;
    out[ST_COUNT_F] = f32(u.y);
    out[ST_EXCLUDED_E] = f32(u.z);
    out[ST_EXCLUDED_F] = f32(u.w);
    out[ST_SKIPPED] = f32(bat_k[0]);
    out[ST_IMAGES] = f32(p.N);
    for (var i = 0u; i < STATS_LEN; i++) {
      if (ACCUMULATE) { out[i] += stats[i]; }
      stats[i] = out[i];
    }
  }
}
