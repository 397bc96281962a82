// BatchNorm2d over x: [N,C,H,W] f32 (NCHW), per-channel statistics over the M = N·H·W elements
// of a channel, plus the fused tails of a ResNet block: relu(bn(x)) and relu(bn(x) + residual).
//
// Training forward (launched from src/kernels/batchnorm.ts):
//   1. μ̂ = mean(x) per channel with reduce.wgsl (two-level sum, into saveMean);
//   2. segment_sums: per segment S1 = Σ(x − μ̂), S2 = Σ(x − μ̂)²;
//   3. stats_final: mean = μ̂ + S1/M, var = S2/M − (S1/M)² (the "corrected two-pass" algorithm:
//      centring on μ̂ removes the catastrophic cancellation of E[x²] − E[x]², and the S1 term
//      removes the first-order effect of μ̂'s own rounding error), invstd = 1/sqrt(var + eps),
//      running stats updated in place (unbiased variance, like PyTorch);
//   4. normalize: y = (x − mean)·(γ·invstd) + β (+ residual) (ReLU).
// Error bound: each sum is split into segments of ≈√M elements then ≈√M partials (see
// reduce.wgsl), so with u = 2^-24, |S2 − Σ(x − μ̂)²| ≤ (√M/2 + 8)·u·S2 (all terms ≥ 0: a relative
// bound, 2.7e-5 worst case at M = 802,816; the scalar path, for H·W % 4 ≠ 0, has (1.25√M + 8)·u),
// and the cancellation in S2/M − (S1/M)² is only
// (μ̂ − μ)²/var, i.e. negligible, since μ̂ is itself accurate to (√M/2 + 8)·u·mean|x|. The mean
// is then accurate to about one rounding of its own magnitude.
// Backward: segment_sums with GRAD gives per segment Σdz and Σdz·(x − mean) (dz = dy, or
// dy·[y > 0] for a fused ReLU, optionally written out as the residual's gradient); bwd_final
// folds them into dβ = Σdz, dγ = invstd·Σdz·(x − mean); dx applies
//   dx = γ·invstd·(dz − Σdz/M − x̂·Σdz·x̂/M),   x̂ = (x − mean)·invstd.
//
// Units: this file is compiled per unit type V (see unit_v4.wgsl): batchnorm_v4.wgsl reads
// vec4s and needs H·W % 4 == 0 (a vec4 never crosses a channel), Params.inner/M/seg then count
// vec4s; batchnorm_s.wgsl takes any H·W. Elementwise entries give each invocation one chunk of
// up to CH units of one (n, c) row, so the per-channel values are loaded once per chunk rather
// than per element.

struct Params {
  C: u32,
  inner: u32,
  M: u32,
  seg: u32,
  nseg: u32,
  chunks: u32,
  total: u32,
  _pad0: u32,
  // 1 / (elements per channel), eps, running-stat momentum, M/(M − 1) for the unbiased variance.
  invM: f32,
  eps: f32,
  momentum: f32,
  unbias: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
// Upstream gradient dy (or an already-masked dz).
@group(0) @binding(2) var<storage, read> dy: array<V>;
// The fused op's forward output y, whose sign is the ReLU mask.
@group(0) @binding(3) var<storage, read> ymask: array<V>;
@group(0) @binding(4) var<storage, read> res: array<V>;
// [C] per-channel: mean (saved or running), invstd (saved) or running var (EVAL), γ, β.
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> stat2: array<f32>;
@group(0) @binding(7) var<storage, read> gamma: array<f32>;
@group(0) @binding(8) var<storage, read> beta: array<f32>;
// Per-segment partial pairs [C·nseg].
@group(0) @binding(9) var<storage, read_write> part: array<vec2f>;
@group(0) @binding(10) var<storage, read> partIn: array<vec2f>;
// Elementwise outputs: y or dx.
@group(0) @binding(11) var<storage, read_write> out: array<V>;
// The masked gradient dz, written for the residual branch of relu(bn(x) + r).
@group(0) @binding(12) var<storage, read_write> dzOut: array<V>;
@group(0) @binding(13) var<storage, read_write> saveMean: array<f32>;
@group(0) @binding(14) var<storage, read_write> saveInvStd: array<f32>;
@group(0) @binding(15) var<storage, read_write> runMean: array<f32>;
@group(0) @binding(16) var<storage, read_write> runVar: array<f32>;
@group(0) @binding(17) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(18) var<storage, read_write> dbeta: array<f32>;
// [C] per-channel (Σdz/M, invstd·Σdz·(x − mean)/M) handed from bwd_final to dx.
@group(0) @binding(19) var<storage, read_write> coef: array<vec2f>;
@group(0) @binding(20) var<storage, read> coefIn: array<vec2f>;

override WG: u32 = 64u;
// Units (vec4s or scalars) of one row per invocation in the elementwise entries.
override CH: u32 = 4u;
// normalize: stat2 holds the running variance (eval mode) instead of invstd.
override EVAL: bool = false;
override RESIDUAL: bool = false;
override RELU: bool = false;
// segment_sums: the backward pass's sums of dz (otherwise the forward's centred moments).
override GRAD: bool = false;
// segment_sums / dx: dz = dy·[y > 0] (fused ReLU) instead of dz = dy.
override MASK: bool = false;
// segment_sums: write dz to dzOut (the residual's gradient), adding to it with ACCUM_DZ.
override WRITE_DZ: bool = false;
override ACCUM_DZ: bool = false;
// bwd_final: dγ += …, dβ += … instead of overwriting.
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"
#include "segments.wgsl"

// ---------------------------------------------------------------- forward statistics

// Per segment (Σd, Σd·(x − mean)): without GRAD d is x − μ̂, so the pair is the centred
// moments (S1, S2) of the forward statistics; with GRAD d is the backward's dz.
@compute @workgroup_size(WG)
fn segment_sums(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.C * p.nseg) { return; }
  let c = id / p.nseg;
  let mu = V(mean[c]);
  var s1 = V(0.0);
  var s2 = V(0.0);
  var sg = segment_start(id, c);
  while (sg.j < sg.jend) {
    let r = segment_run(&sg, c);
    for (var t = 0u; t < r.y; t++) {
      let e = r.x + t;
      let xc = x[e] - mu;
      var d = xc;
      if (GRAD) {
        d = dy[e];
        if (MASK) { d = select(V(0.0), d, ymask[e] > V(0.0)); }
        if (WRITE_DZ) {
          if (ACCUM_DZ) { dzOut[e] += d; } else { dzOut[e] = d; }
        }
      }
      s1 += d;
      s2 = add_prod(s2, d, xc);
    }
  }
  part[id] = vec2f(hsum(s1), hsum(s2));
}

// Σ over channel c's partial pairs, four interleaved accumulators per component.
fn fold_partials(c: u32) -> vec2f {
  let base = c * p.nseg;
  var a = vec4f(0.0);
  var b = vec4f(0.0);
  var k = 0u;
  for (; k + 4u <= p.nseg; k += 4u) {
    let q0 = partIn[base + k];
    let q1 = partIn[base + k + 1u];
    let q2 = partIn[base + k + 2u];
    let q3 = partIn[base + k + 3u];
    a += vec4f(q0.x, q1.x, q2.x, q3.x);
    b += vec4f(q0.y, q1.y, q2.y, q3.y);
  }
  var s = vec2f((a.x + a.y) + (a.z + a.w), (b.x + b.y) + (b.z + b.w));
  for (; k < p.nseg; k++) { s += partIn[base + k]; }
  return s;
}

// One invocation per channel. saveMean holds μ̂ on entry and the corrected mean on exit.
@compute @workgroup_size(WG)
fn stats_final(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  if (c >= p.C) { return; }
  let s = fold_partials(c);
  let d = s.x * p.invM;
  let m = saveMean[c] + d;
  let v0 = s.y * p.invM - d * d;
  let v = select(v0, 0.0, v0 < 0.0); // rounding can go below 0; NaN must stay NaN
  saveMean[c] = m;
  saveInvStd[c] = 1.0 / sqrt(v + p.eps);
  runMean[c] = (1.0 - p.momentum) * runMean[c] + p.momentum * m;
  runVar[c] = (1.0 - p.momentum) * runVar[c] + p.momentum * (v * p.unbias);
}

// ---------------------------------------------------------------- forward output

// Per-channel (mean, γ·invstd, β) for the chunk's row.
fn channel_affine(c: u32) -> vec3f {
  var inv = stat2[c];
  if (EVAL) { inv = inverseSqrt(inv + p.eps); }
  return vec3f(mean[c], gamma[c] * inv, beta[c]);
}

@compute @workgroup_size(WG)
fn normalize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let row = id / p.chunks;
  let s0 = (id - row * p.chunks) * CH;
  let s1 = min(s0 + CH, p.inner);
  let a = channel_affine(row % p.C);
  let base = row * p.inner;
  for (var s = s0; s < s1; s++) {
    // (x − mean) first: x·scale + shift would cancel catastrophically when |mean| ≫ std.
    var v = fma(x[base + s] - V(a.x), V(a.y), V(a.z));
    if (RESIDUAL) { v += res[base + s]; }
    if (RELU) { v = select(v, V(0.0), v < V(0.0)); } // NaN passes, as in elementwise relu
    out[base + s] = v;
  }
}

// ---------------------------------------------------------------- backward

// One invocation per channel: dβ = Σdz, dγ = invstd·Σdz·(x − mean), and the dx coefficients.
@compute @workgroup_size(WG)
fn bwd_final(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  if (c >= p.C) { return; }
  let s = fold_partials(c);
  let inv = stat2[c];
  let db = s.x;
  let dg = s.y * inv;
  coef[c] = vec2f(db * p.invM, dg * p.invM);
  if (ACCUMULATE) {
    dgamma[c] += dg;
    dbeta[c] += db;
  } else {
    dgamma[c] = dg;
    dbeta[c] = db;
  }
}

@compute @workgroup_size(WG)
fn dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let row = id / p.chunks;
  let s0 = (id - row * p.chunks) * CH;
  let s1 = min(s0 + CH, p.inner);
  let c = row % p.C;
  let inv = stat2[c];
  let k = coefIn[c];
  let g = V(gamma[c] * inv);
  let mu = V(mean[c]);
  let b = V(k.x);
  let kx = V(k.y * inv);
  let base = row * p.inner;
  for (var s = s0; s < s1; s++) {
    let e = base + s;
    var dz = dy[e];
    if (MASK) { dz = select(V(0.0), dz, ymask[e] > V(0.0)); }
    out[e] = g * (dz - b - (x[e] - mu) * kx);
  }
}
