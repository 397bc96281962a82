// Per-image z-score in place: x ← (x − mean) / std over all S·S pixels of each image, with the
// population variance (numpy's var()). One workgroup per image; each invocation owns the
// pixels lid, lid + WG, … so it re-reads only what it wrote itself (no storage barrier needed)
// and the two tree reductions are the only workgroup barriers.
// A constant image (max == min, exact) has zero variance: it becomes all zeros instead of NaN.
//
// x: [B][n] f32

struct Params {
  n: u32,
  batch: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

override WG: u32 = 256u;

var<workgroup> red_sum: array<f32, WG>;
var<workgroup> red_min: array<f32, WG>;
var<workgroup> red_max: array<f32, WG>;

@compute @workgroup_size(WG)
fn zscore(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let b = wid.x;
  let t = lid.x;
  let base = b * p.n;
  var s = 0.0;
  var lo = 3.0e38;
  var hi = -3.0e38;
  for (var q = t; q < p.n; q += WG) {
    let v = x[base + q];
    s += v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  red_sum[t] = s;
  red_min[t] = lo;
  red_max[t] = hi;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (t < k) {
      red_sum[t] += red_sum[t + k];
      red_min[t] = min(red_min[t], red_min[t + k]);
      red_max[t] = max(red_max[t], red_max[t + k]);
    }
    workgroupBarrier();
  }
  let mean = red_sum[0] / f32(p.n);
  let constant = red_max[0] == red_min[0];
  // Everyone has read the first reduction before red_sum is reused.
  workgroupBarrier();
  var ss = 0.0;
  for (var q = t; q < p.n; q += WG) {
    let d = x[base + q] - mean;
    ss += d * d;
  }
  red_sum[t] = ss;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (t < k) { red_sum[t] += red_sum[t + k]; }
    workgroupBarrier();
  }
  let sd = sqrt(red_sum[0] / f32(p.n));
  for (var q = t; q < p.n; q += WG) {
    x[base + q] = select((x[base + q] - mean) / sd, 0.0, constant);
  }
}
