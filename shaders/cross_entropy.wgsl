// Softmax cross-entropy with per-example weights (the wBackMix loss), forward and backward fused.
// logits: [N,K] f32 row-major. Targets: hard labels u32 [N] (ce_hard) or soft targets [N,K] f32
// (ce_soft, e.g. CutMix's area-mixed labels). w: [N] f32 per-example weights.
// Outputs per row i: ce[i] = −Σ_k t_ik·log softmax(z_i)_k, dlogits[i,:] = gscale·w_i·(Σt·p_i − t_i)
// (gscale = upstream gradient / N on the host), pred[i] = argmax_k z_ik (first maximum, like
// torch.argmax), correct[i] = pred[i] == label (hard) or argmax of the soft target.
// ce_reduce then folds the rows into stats (positions ST_*) = [Σ w·CE / N, Σ w·CE, Σ CE,
// Σ correct] so a training step reads back one 16-byte buffer.
//
// One invocation per row: K is small here (4 echo views) and rows are independent, so there is
// nothing to share between lanes and no barrier is needed (barriers are slow on SwiftShader).

struct Params {
  N: u32,
  K: u32,
  // Multiplies w_i·(Σt·p − t) into dlogits: the upstream gradient of the loss divided by N.
  gscale: f32,
  // 1/N for the weighted mean in ce_reduce.
  invN: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> soft: array<f32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> ce: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(7) var<storage, read_write> pred: array<u32>;
@group(0) @binding(8) var<storage, read_write> correct: array<u32>;

// [Σ w·CE / N, Σ w·CE, Σ CE, Σ correct], written by ce_reduce (which reads ce, weights, correct).
@group(0) @binding(9) var<storage, read_write> stats: array<f32>;

override WG: u32 = 64u;
// Without weights every w_i is 1 (evaluation); the binding is then unused.
override WEIGHTED: bool = true;
// Without it, dlogits is not written (evaluation needs only the loss and the argmax).
override GRAD: bool = true;
// ce_reduce adds to stats instead of overwriting them (sums over an epoch, read once).
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"

fn weight(i: u32) -> f32 {
  if (WEIGHTED) { return weights[i]; }
  return 1.0;
}

// Row max, first argmax and log Σ exp(z − max); the max shift keeps exp() ≤ 1, so logits of
// magnitude 1e4 neither overflow nor lose the largest term.
struct RowStats { zmax: f32, arg: u32, logsum: f32 }

fn row_stats(base: u32) -> RowStats {
  var zmax = logits[base];
  var arg = 0u;
  for (var k = 1u; k < p.K; k++) {
    let z = logits[base + k];
    if (z > zmax) { zmax = z; arg = k; }
  }
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s += exp(logits[base + k] - zmax); }
  return RowStats(zmax, arg, log(s));
}

// A var, not a literal: WGSL rejects a NaN constant expression, but not a runtime bitcast.
fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG)
fn ce_hard(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  let base = i * p.K;
  let r = row_stats(base);
  let y = labels[i];
  pred[i] = r.arg;
  correct[i] = select(0u, 1u, r.arg == y);
  if (y >= p.K) {
    // PyTorch raises on an out-of-range class; a shader cannot, so the NaN makes it visible
    // (the loss turns NaN and the trainer stops, naming the step and its samples) instead of
    // training on a silently clamped label.
    ce[i] = nan_f32();
    if (GRAD) { for (var k = 0u; k < p.K; k++) { dlogits[base + k] = nan_f32(); } }
    return;
  }
  // −log softmax_y = (zmax − z_y) + log Σ exp(z − zmax): both terms ≥ 0, no cancellation.
  ce[i] = (r.zmax - logits[base + y]) + r.logsum;
  if (GRAD) {
    let g = p.gscale * weight(i);
    for (var k = 0u; k < p.K; k++) {
      let sm = exp(logits[base + k] - r.zmax - r.logsum);
      dlogits[base + k] = g * (sm - select(0.0, 1.0, k == y));
    }
  }
}

@compute @workgroup_size(WG)
fn ce_soft(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.N) { return; }
  let base = i * p.K;
  let r = row_stats(base);
  // CE = Σ_k t_k·(zmax − z_k + logsum); targets need not sum to 1 (PyTorch's formula is the
  // same), so the gradient carries Σt: d/dz_j = Σt·softmax_j − t_j.
  var loss = 0.0;
  var tsum = 0.0;
  var tmax = soft[base];
  var targ = 0u;
  for (var k = 0u; k < p.K; k++) {
    let t = soft[base + k];
    loss = fma(t, (r.zmax - logits[base + k]) + r.logsum, loss);
    tsum += t;
    if (t > tmax) { tmax = t; targ = k; }
  }
  ce[i] = loss;
  pred[i] = r.arg;
  correct[i] = select(0u, 1u, r.arg == targ);
  if (GRAD) {
    let g = p.gscale * weight(i);
    for (var k = 0u; k < p.K; k++) {
      let sm = exp(logits[base + k] - r.zmax - r.logsum);
      dlogits[base + k] = g * fma(tsum, sm, -soft[base + k]);
    }
  }
}

// Positions in stats (parseCrossEntropyStats reads them).
const ST_LOSS: u32 = 0u;
const ST_WEIGHTED_SUM: u32 = 1u;
const ST_SUM: u32 = 2u;
const ST_CORRECT: u32 = 3u;
const STATS_LEN: u32 = 4u;

var<workgroup> red: array<vec3f, WG>;

// One workgroup folds all N rows: N is a batch (tens to thousands), so a single pass of WG
// lanes plus a log2(WG)-step tree costs less than a second dispatch level would.
@compute @workgroup_size(WG)
fn ce_reduce(@builtin(local_invocation_index) lid: u32) {
  // (Σ w·CE, Σ CE, Σ correct) for this lane's rows; the count stays exact in f32 to 2^24.
  var acc = vec3f(0.0);
  for (var i = lid; i < p.N; i += WG) {
    let l = ce[i];
    acc += vec3f(weight(i) * l, l, f32(correct[i]));
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t = red[0];
    var out = vec4f(t.x * p.invN, t.x, t.y, t.z);
    if (ACCUMULATE) { out += vec4f(stats[ST_LOSS], stats[ST_WEIGHTED_SUM], stats[ST_SUM], stats[ST_CORRECT]); }
    stats[ST_LOSS] = out.x;
    stats[ST_WEIGHTED_SUM] = out.y;
    stats[ST_SUM] = out.z;
    stats[ST_CORRECT] = out.w;
  }
}
