// Direct conv2d as an implicit GEMM with register tiles (no im2col buffer):
//   Y[n, o, oh·soH + ooH, ow·soW + ooW] (+)= bias[o] + Σ_{r,kh,kw} Xpad[n, r, oh·S + kh, ow·S + kw] · W[r, kh, kw, o]
// for oh < Hq, ow < Wq, o < O.
// X:  the zero-padded input split into P column phases by conv2d_prep.wgsl:pad —
//     [N,R,Hp,P,Wp4·4] f32 read as vec4, X[n,r,h,φ,m] = Xpad[n,r,h,m·S + φ] — so tap
//     kw = a·S + φ of output column ow reads phase φ at m = ow + a: contiguous in ow for any
//     stride, and every load is an aligned vec4 with no border branches (P = min(S, KW)).
// W:  [R,KH,G,NT,OV·4] f32 read as vec4 (conv2d_prep.wgsl:repack): the taps of each kernel row
//     in groups of TK (G = P·Gp groups, Gp per phase, tap a = g·TK + k of phase φ) — or, with
//     TK1 > 0, one group per row of TK phase-0 taps then TK1 phase-1 taps — zero for taps past
//     the kernel and for channels ≥ O, output channels fastest.
// Y:  [N,O,outH,outW] f32.
// The forward pass uses it with (R,O) = (Ci,Co) and soH = soW = 1; the input gradient uses it
// once per stride phase as a stride-1 correlation of the padded dy with the flipped sub-kernel,
// writing every S-th row and column of dx (soH = soW = stride).
//
// Each invocation computes 4·COTV output channels × 4·TWV output columns × THO output rows.
// Why this shape (docs/DESIGN.md, "Software GPUs"): each storage load is a per-lane loop on
// lavapipe, so the kernel maximises FMAs per loaded vec4 — a window of TWV+1 input vec4s
// feeds all TK tap shifts (built by swizzles, not reloads), a weight vec4 feeds TWV·THO·4
// outputs (rows matter for narrow late-stage images).
// Why it is written this way (measured on SwiftShader, which does not unroll loops):
//   - the register tile uses constant indices, guarded by the @specialize sizes (constant
//     guards cost nothing): an accumulator array indexed by a loop counter lives in memory
//     there and ran 10× slower;
//   - one flat loop over (r, kh, tap group) with a branch-free body: an extra loop level or an
//     `if` around FMAs (e.g. skipping missing taps) cost 35–75%, so missing taps get zero
//     weights instead, and TK is chosen per conv to keep those few.
// No shared memory or barriers (slow on SwiftShader).
//
// This file is the kernel's body; it is compiled through one of two entry files that supply
// stepWeights(), the loads of a step's weights: conv2d_forward_own.wgsl (every invocation
// loads all COTV·NT weight vec4s) and conv2d_forward_subgroup.wgsl (the invocations of a
// subgroup share one output-channel tile, so each loads one of the vec4s they all need and
// subgroupBroadcast hands them round). Tiles of one channel tile are padded to whole subgroups
// (p.lanes ≥ p.lanesUsed); padding invocations compute on a clamped tile and store nothing.

struct Params {
  R: u32, Hp: u32, Wp4: u32, S: u32,
  P: u32, KH: u32, G: u32, Gp: u32,
  O: u32, OV: u32, outH: u32, outW: u32,
  Hq: u32, Wq: u32, soH: u32, ooH: u32,
  soW: u32, ooW: u32, tilesW: u32, N: u32,
  total: u32, tilesH: u32, rpStep: u32, lanes: u32,
  lanesUsed: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
// The same binding seen as vec4s, used only by main_vec4_out.
@group(0) @binding(4) var<storage, read_write> Y4: array<vec4f>;

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"

const COTV: u32 = 2u; // @specialize output channels per invocation / 4, 1–4
const TWV: u32 = 2u; // @specialize output columns per invocation / 4, 1–4
const THO: u32 = 1u; // @specialize output rows per invocation, TWV·THO ≤ 4
const TK: u32 = 3u; // @specialize taps per group, 1–4
// Taps of column phase 1 done in the same step (stride 2 with few taps: 3×3 is 2 + 1), so no
// zero-weight taps are computed; TK + TK1 ≤ 4.
const TK1: u32 = 0u; // @specialize
// Reduction channels per step, 1 or 4. With 4 (single-tap kernels: 1×1 convs and the input
// gradient's single-tap stride phases, TK = 1, TK1 = 0, R a multiple of 4) tap slot k of a
// step holds channel r + k, so each accumulator read-modify-write chains 4 products, not 1.
const RCH: u32 = 1u; // @specialize
const NT: u32 = max(TK + TK1, RCH);
// Window column of phase 1's first tap (clamped so the unused case still indexes in range).
const C1: u32 = min(TK, 3u);
// Column blocks of 4 outputs per invocation: slot q is row q / TWV, vec4 column q % TWV.
const SLOTS: u32 = TWV * THO;
// Slot q's input window starts at L[q + q / TWV] (see accumulate).
const A1: u32 = 1u + 1u / TWV;
const A2: u32 = 2u + 2u / TWV;
const A3: u32 = 3u + 3u / TWV;
// Subgroup size of the subgroup entry file (0 for own loads).
const SG: u32 = 0u; // @specialize

// acc[q·4 + c] holds slot q's 4 output columns (the vec4 in each matrix column) of output
// channels 4c…4c+3 (the four matrix columns).
alias Tile = array<mat4x4f, 16>;

// Adds all TK taps into one accumulator block at once: column e (output channel 4c + e) gets
// Σ_k w[k][e] · x[k], where w[k] = tap k's weights of channels 4c…4c+3 and x[k] = tap k's input
// window. One read-modify-write of the block per step instead of one per tap: on SwiftShader
// the tile lives in memory and those round trips, not the FMAs, set the speed.
fn chain(a: mat4x4f, w: mat4x4f, x: mat4x4f) -> mat4x4f {
  var c0 = fma(vec4f(w[0].x), x[0], a[0]);
  var c1 = fma(vec4f(w[0].y), x[0], a[1]);
  var c2 = fma(vec4f(w[0].z), x[0], a[2]);
  var c3 = fma(vec4f(w[0].w), x[0], a[3]);
  if (NT > 1u) {
    c0 = fma(vec4f(w[1].x), x[1], c0);
    c1 = fma(vec4f(w[1].y), x[1], c1);
    c2 = fma(vec4f(w[1].z), x[1], c2);
    c3 = fma(vec4f(w[1].w), x[1], c3);
  }
  if (NT > 2u) {
    c0 = fma(vec4f(w[2].x), x[2], c0);
    c1 = fma(vec4f(w[2].y), x[2], c1);
    c2 = fma(vec4f(w[2].z), x[2], c2);
    c3 = fma(vec4f(w[2].w), x[2], c3);
  }
  if (NT > 3u) {
    c0 = fma(vec4f(w[3].x), x[3], c0);
    c1 = fma(vec4f(w[3].y), x[3], c1);
    c2 = fma(vec4f(w[3].z), x[3], c2);
    c3 = fma(vec4f(w[3].w), x[3], c3);
  }
  return mat4x4f(c0, c1, c2, c3);
}

// One step: wc = the TK taps' weights of channel vec4 c, xq = the TK taps' windows of slot q.
fn stepTile(acc: ptr<function, Tile>, w0: mat4x4f, w1: mat4x4f, w2: mat4x4f, w3: mat4x4f,
            x0: mat4x4f, x1: mat4x4f, x2: mat4x4f, x3: mat4x4f) {
  (*acc)[0] = chain((*acc)[0], w0, x0);
  if (COTV > 1u) { (*acc)[1] = chain((*acc)[1], w1, x0); }
  if (COTV > 2u) { (*acc)[2] = chain((*acc)[2], w2, x0); }
  if (COTV > 3u) { (*acc)[3] = chain((*acc)[3], w3, x0); }
  if (SLOTS > 1u) {
    (*acc)[4] = chain((*acc)[4], w0, x1);
    if (COTV > 1u) { (*acc)[5] = chain((*acc)[5], w1, x1); }
    if (COTV > 2u) { (*acc)[6] = chain((*acc)[6], w2, x1); }
    if (COTV > 3u) { (*acc)[7] = chain((*acc)[7], w3, x1); }
  }
  if (SLOTS > 2u) {
    (*acc)[8] = chain((*acc)[8], w0, x2);
    if (COTV > 1u) { (*acc)[9] = chain((*acc)[9], w1, x2); }
    if (COTV > 2u) { (*acc)[10] = chain((*acc)[10], w2, x2); }
    if (COTV > 3u) { (*acc)[11] = chain((*acc)[11], w3, x2); }
  }
  if (SLOTS > 3u) {
    (*acc)[12] = chain((*acc)[12], w0, x3);
    if (COTV > 1u) { (*acc)[13] = chain((*acc)[13], w1, x3); }
    if (COTV > 2u) { (*acc)[14] = chain((*acc)[14], w2, x3); }
    if (COTV > 3u) { (*acc)[15] = chain((*acc)[15], w3, x3); }
  }
}

// Elements k…k+3 of the 8-element concatenation (a, b).
fn win1(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.yzw, b.x); }
fn win2(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.zw, b.xy); }
fn win3(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.w, b.xyz); }

// The tap windows of one slot: column k < TK = shift k of consecutive input vec4s (a, b) of the
// step's phase, then TK1 shifts of (c, d) from phase 1.
fn windows(a: vec4f, b: vec4f, c: vec4f, d: vec4f) -> mat4x4f {
  var m = mat4x4f();
  m[0] = a;
  if (TK > 1u) { m[1] = win1(a, b); }
  if (TK > 2u) { m[2] = win2(a, b); }
  if (TK > 3u) { m[3] = win3(a, b); }
  if (TK1 > 0u) { m[C1] = c; }
  if (TK1 > 1u) { m[min(C1 + 1u, 3u)] = win1(c, d); }
  if (TK1 > 2u) { m[min(C1 + 2u, 3u)] = win2(c, d); }
  return m;
}

// Slot windows starting at L[i]: the step's taps (see windows) or, with RCH = 4, the same
// column of channels r…r+3 (L, R1, R2, R3).
fn slotWindows(i: u32, L: array<vec4f, 8>, M: array<vec4f, 8>, R1: array<vec4f, 8>, R2: array<vec4f, 8>, R3: array<vec4f, 8>) -> mat4x4f {
  if (RCH > 1u) { return mat4x4f(L[i], R1[i], R2[i], R3[i]); }
  return windows(L[i], L[i + 1u], M[i], M[i + 1u]);
}

// The input vec4s a step reads for one phase: TWV+1 per output row, rows one after the other
// (slot q's window starts at index q + q / TWV).
fn rowWindows(sb: u32, rowStep: u32) -> array<vec4f, 8> {
  var L: array<vec4f, 8>;
  L[0] = X[sb];
  L[1] = X[sb + 1u];
  if (TWV > 1u) { L[2] = X[sb + 2u]; }
  if (TWV > 2u) { L[3] = X[sb + 3u]; }
  if (TWV > 3u) { L[4] = X[sb + 4u]; }
  if (THO > 1u) {
    L[TWV + 1u] = X[sb + rowStep];
    L[TWV + 2u] = X[sb + rowStep + 1u];
    if (TWV > 1u) { L[5] = X[sb + rowStep + 2u]; }
  }
  if (THO > 2u) {
    L[4] = X[sb + 2u * rowStep];
    L[5] = X[sb + 2u * rowStep + 1u];
  }
  if (THO > 3u) {
    L[6] = X[sb + 3u * rowStep];
    L[7] = X[sb + 3u * rowStep + 1u];
  }
  return L;
}

struct Origin { n: u32, oh0: u32, ot: u32, ov0: u32, valid: bool }

// Column tiles vary fastest and the channel tile slowest, so a workgroup shares weights.
fn origin(id: u32) -> Origin {
  let l = id % p.lanes;
  let ot = id / p.lanes;
  let lc = min(l, p.lanesUsed - 1u);
  let tw = lc % p.tilesW;
  var q = lc / p.tilesW;
  let th = q % p.tilesH;
  q /= p.tilesH;
  return Origin(q, th * THO, ot, tw * TWV, l < p.lanesUsed);
}

fn accumulate(acc: ptr<function, Tile>, t: Origin, lane: u32) {
  let S = p.S;
  let xImage = t.n * p.R * p.Hp;
  let steps = (p.R / RCH) * p.KH * p.G;
  // vec4s between the inputs of consecutive output rows (S input rows of P phases).
  let rowStep = S * p.P * p.Wp4;
  var wb = t.ot * COTV;
  let wStep = NT * p.OV;
  // Step counters instead of div/mod of the step index: integer division is a per-lane
  // scalar loop on both software drivers and cost more than the step's FMAs.
  // Input offset of a step: r·RCH·plane + (kh·P + ph)·Wp4 + g (rows of P phases are contiguous);
  // rp = kh·P + ph advances by rpStep (P when one step covers both phases).
  let plane = p.Hp * p.P * p.Wp4;
  let rPlane = RCH * plane;
  let rowPhases = p.KH * p.P;
  let base = ((xImage + t.oh0 * S) * p.P) * p.Wp4 + t.ov0;
  let wl = weightLanes(lane);
  var g = 0u;
  var rp = 0u;
  var r = 0u;
  for (var st = 0u; st < steps; st++) {
    // Groups after the first in a phase have TK = 4 and start at tap 4g: vec4 column g.
    let sb = base + r * rPlane + rp * p.Wp4 + g;
    let L = rowWindows(sb, rowStep);
    var M: array<vec4f, 8>;
    if (TK1 > 0u) { M = rowWindows(sb + p.Wp4, rowStep); }
    var R1: array<vec4f, 8>;
    var R2: array<vec4f, 8>;
    var R3: array<vec4f, 8>;
    if (RCH > 1u) {
      R1 = rowWindows(sb + plane, rowStep);
      R2 = rowWindows(sb + 2u * plane, rowStep);
      R3 = rowWindows(sb + 3u * plane, rowStep);
    }
    let w = stepWeights(wb, wl);
    var x1 = mat4x4f();
    var x2 = mat4x4f();
    var x3 = mat4x4f();
    if (SLOTS > 1u) { x1 = slotWindows(A1, L, M, R1, R2, R3); }
    if (SLOTS > 2u) { x2 = slotWindows(A2, L, M, R1, R2, R3); }
    if (SLOTS > 3u) { x3 = slotWindows(A3, L, M, R1, R2, R3); }
    stepTile(acc, w[0], w[1], w[2], w[3], slotWindows(0u, L, M, R1, R2, R3), x1, x2, x3);
    wb += wStep;
    g += 1u;
    let nextRow = g == p.Gp;
    g = select(g, 0u, nextRow);
    rp = select(rp, rp + p.rpStep, nextRow);
    let nextChannel = rp == rowPhases;
    rp = select(rp, 0u, nextChannel);
    r = select(r, r + 1u, nextChannel);
  }
}

fn biasOf(o: u32) -> f32 {
  if (HAS_BIAS) { return B[o]; }
  return 0.0;
}

// Scalar stores: any output stride and offset (the input gradient's stride phases, odd widths).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let t = origin(id);
  var acc: Tile;
  accumulate(&acc, t, id % max(SG, 1u));
  if (!t.valid) { return; }
  for (var c = 0u; c < COTV; c++) {
    for (var e = 0u; e < 4u; e++) {
      let o = (t.ot * COTV + c) * 4u + e;
      if (o >= p.O) { return; }
      let bv = biasOf(o);
      for (var q = 0u; q < SLOTS; q++) {
        let oh = t.oh0 + q / TWV;
        if (oh >= p.Hq) { break; }
        let base = ((t.n * p.O + o) * p.outH + oh * p.soH + p.ooH) * p.outW + p.ooW;
        let v4 = acc[q * 4u + c][e] + vec4f(bv);
        for (var l = 0u; l < 4u; l++) {
          let ow = (t.ov0 + q % TWV) * 4u + l;
          if (ow < p.Wq) {
            let idx = base + ow * p.soW;
            if (ACCUMULATE) { Y[idx] += v4[l]; } else { Y[idx] = v4[l]; }
          }
        }
      }
    }
  }
}

// vec4 stores, when output rows are whole vec4s: soW = 1 and outW, ooW, Wq multiples of 4.
// Stores are a per-lane loop each on lavapipe, which dominates convs with few input channels.
@compute @workgroup_size(WG)
fn main_vec4_out(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let t = origin(id);
  var acc: Tile;
  accumulate(&acc, t, id % max(SG, 1u));
  if (!t.valid) { return; }
  let Wq4 = p.Wq / 4u;
  for (var c = 0u; c < COTV; c++) {
    for (var e = 0u; e < 4u; e++) {
      let o = (t.ot * COTV + c) * 4u + e;
      if (o >= p.O) { return; }
      let bv = biasOf(o);
      for (var q = 0u; q < SLOTS; q++) {
        let oh = t.oh0 + q / TWV;
        let ov = t.ov0 + q % TWV;
        if (oh >= p.Hq) { break; }
        if (ov < Wq4) {
          let idx = (((t.n * p.O + o) * p.outH + oh * p.soH + p.ooH) * p.outW + p.ooW) / 4u + ov;
          let v4 = acc[q * 4u + c][e] + vec4f(bv);
          if (ACCUMULATE) { Y4[idx] += v4; } else { Y4[idx] = v4; }
        }
      }
    }
  }
}
