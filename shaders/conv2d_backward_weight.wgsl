// conv2d weight and bias gradients, as chunked partial sums (implicit GEMM, no im2col):
//   part[c, ((o·Ci + i)·KH + kh)·KW + kw] = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow] · Xpad[n,i,oh·S + kh, ow·S + kw]
//   part[c, nW + o]                       = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow]          (HAS_BIAS)
// conv2d_prep.wgsl:reduce then sums the chunks into dw [Co,Ci,KH,KW] and db [Co].
// X:  [N,Ci,Hp,P,Wp4·4] f32 as vec4 — zero-padded and split into P = min(S, KW) column phases
//     by conv2d_prep.wgsl:pad, so tap kw = a·S + ph reads phase ph at column ow + a.
// dY: [N,Co,Ho,Wdv·4] f32 as vec4, rows zero-padded to whole groups of U vec4s.
//
// One dispatch per column phase ph; an invocation owns COT output channels × CIT input
// channels × TK taps a = a0…a0+TK−1 of one kernel row kh, over one chunk of rows (n, oh).
// For stride 2 with few taps (3×3: 2 + 1) one dispatch does both phases (TK1 = phase 1's taps),
// because a 1-tap phase alone feeds only COT·CIT FMAs per COT + CIT loads.
// Per dy vec4 (4 output columns) it loads one new input vec4 per input channel and builds the
// TK shifted windows by swizzles: COT + CIT loads feed COT·CIT·TK vec4 FMAs.
//
// A weight sees N·Ho·Wo terms (800k for a 64-channel 3×3 conv at 112², batch 64), so one
// sequential f32 sum per weight would lose ~log2(800k) bits: the rows are split into chunks,
// each accumulator keeps 4 interleaved lanes over ow, then the lanes are added pairwise and
// the reduce pass sums the chunks (error bound in src/kernels/conv2d.ts).
// The register tile is written out with constant indices (see conv2d_forward.wgsl for why).
//
// This file is the kernel's body; it is compiled through one of two entry files that supply
// dyColumn(), the loads of dy: conv2d_backward_weight_own.wgsl (every invocation loads its own
// COT dy vec4s per column) and conv2d_backward_weight_subgroup.wgsl (the invocations of a
// subgroup share one output-channel tile and row chunk, so lane c loads channel c's dy vec4
// and subgroupBroadcast hands it round: on lavapipe a storage load is a loop over the SIMD
// lanes, a broadcast is a register shuffle). Lanes of one (cot, chunk) are padded to whole
// subgroups (p.lanes ≥ p.lanesUsed); padding lanes compute and store nothing.

struct Params {
  Ci: u32, Co: u32, Ho: u32, rows: u32,
  rowsPerChunk: u32, Wdv: u32, Hp: u32, Wp4: u32,
  S: u32, KH: u32, KW: u32, ph: u32,
  taps: u32, groups: u32, tilesCi: u32, tilesCo: u32,
  total: u32, stride: u32, nW: u32, P: u32,
  taps1: u32, lanes: u32, lanesUsed: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> DY: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
// With a single chunk and no bias the launcher binds dw itself as `part` (no reduce pass); then
// ACCUMULATE adds to it. The reduce would have stored 0 + the chunk's sum: the same value (only
// a −0 sum would have become +0).
override ACCUMULATE: bool = false;

#include "flat_id.wgsl"

const COT: u32 = 4u; // @specialize output channels per invocation, 1–8 (COT·CIT ≤ 16)
const CIT: u32 = 4u; // @specialize input channels per invocation, 1–4
const TK: u32 = 3u; // @specialize taps of phase ph per invocation (consecutive a), 1–4
const TK1: u32 = 0u; // @specialize taps of phase 1 in the same invocation (stride 2), TK + TK1 ≤ 4
const NCOL: u32 = TK + TK1;
// Matrix column of phase 1's first tap (clamped so the unused case still indexes in range).
const C1: u32 = min(TK, 3u);
// Subgroup size of the subgroup entry file (0 for own loads).
const SG: u32 = 0u; // @specialize
// dy columns per accumulator update, 1, 2 or 4 (the launcher pads dy rows to a multiple).
// SwiftShader keeps the register tile in memory, so a block's read-modify-write, not its FMAs,
// sets the speed: U columns give each block U·NCOL FMAs per update instead of NCOL. Column
// j + 1 is added after column j into the same lanes, so every sum is the same as with U = 1.
const U: u32 = 1u; // @specialize
// One flat loop over (row, column group) instead of a row loop around a column loop: each step
// reloads its first x vec4 per channel instead of carrying it along the row. SwiftShader runs a
// loop level with a few trips per row (small late-stage maps) far slower than the loads cost.
const FLAT: bool = false; // @specialize
// In the flat loop, a step's U units are U consecutive rows of one image instead of U columns
// of one row: for maps one dy vec4 wide, where a row has a single column (the launcher keeps Ho
// a multiple of U and chunks of whole groups of U rows, so a group never crosses images).
const UROWS: bool = false; // @specialize

// acc[ci·COT + co]: matrix column k = tap a0 + k of phase ph for k < TK, then tap k − TK of
// phase 1; each a vec4 of 4 interleaved ow lanes.
alias Tile = array<mat4x4f, 16>;

fn win1(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.yzw, b.x); }
fn win2(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.zw, b.xy); }
fn win3(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.w, b.xyz); }

// The tap windows of the input columns under one dy vec4, from consecutive input vec4s of
// phase ph (cur, next) and, when TK1 > 0, of phase 1 (cur1, next1).
fn windows(cur: vec4f, next: vec4f, cur1: vec4f, next1: vec4f) -> mat4x4f {
  var w = mat4x4f();
  w[0] = cur;
  if (TK > 1u) { w[1] = win1(cur, next); }
  if (TK > 2u) { w[2] = win2(cur, next); }
  if (TK > 3u) { w[3] = win3(cur, next); }
  if (TK1 > 0u) { w[C1] = cur1; }
  if (TK1 > 1u) { w[min(C1 + 1u, 3u)] = win1(cur1, next1); }
  if (TK1 > 2u) { w[min(C1 + 2u, 3u)] = win2(cur1, next1); }
  return w;
}

// Adds tap column t's products of U dy columns: d[u] · x[u][t], in column order.
fn fmaCol(a: vec4f, d: vec4f, d1: vec4f, d2: vec4f, d3: vec4f, x: Windows, t: u32) -> vec4f {
  var r = fma(d, x[0][t], a);
  if (U > 1u) { r = fma(d1, x[1][t], r); }
  if (U > 2u) {
    r = fma(d2, x[2][t], r);
    r = fma(d3, x[3][t], r);
  }
  return r;
}

fn fmaTaps(a: mat4x4f, d: vec4f, d1: vec4f, d2: vec4f, d3: vec4f, x: Windows) -> mat4x4f {
  var r = a;
  r[0] = fmaCol(a[0], d, d1, d2, d3, x, 0u);
  if (NCOL > 1u) { r[1] = fmaCol(a[1], d, d1, d2, d3, x, 1u); }
  if (NCOL > 2u) { r[2] = fmaCol(a[2], d, d1, d2, d3, x, 2u); }
  if (NCOL > 3u) { r[3] = fmaCol(a[3], d, d1, d2, d3, x, 3u); }
  return r;
}

// The COT dy vec4s of one column: channels 0–3 as lo's matrix columns, 4–7 as hi's.
struct DyCol { lo: mat4x4f, hi: mat4x4f }
// U dy columns, and one input channel's tap windows under each of them.
alias DyCols = array<DyCol, 4>;
alias Windows = array<mat4x4f, 4>;

// Where a row's dy lives: the rows of the invocation's channels 0–3 and 4–7 (clamped to Co),
// and of the one channel this lane loads when a subgroup shares the loads.
struct DyRows { lo: vec4u, hi: vec4u, lane: u32 }

// Adds the products of input channel ci's windows x with the COT dy vectors of d: block
// ci·COT + co (indices clamped so blocks no tile uses still index in range).
fn ciStep0(acc: ptr<function, Tile>, d: DyCols, x: Windows) {
  (*acc)[0] = fmaTaps((*acc)[0], d[0].lo[0], d[1].lo[0], d[2].lo[0], d[3].lo[0], x);
  if (COT > 1u) { (*acc)[1] = fmaTaps((*acc)[1], d[0].lo[1], d[1].lo[1], d[2].lo[1], d[3].lo[1], x); }
  if (COT > 2u) { (*acc)[2] = fmaTaps((*acc)[2], d[0].lo[2], d[1].lo[2], d[2].lo[2], d[3].lo[2], x); }
  if (COT > 3u) { (*acc)[3] = fmaTaps((*acc)[3], d[0].lo[3], d[1].lo[3], d[2].lo[3], d[3].lo[3], x); }
  if (COT > 4u) { (*acc)[4] = fmaTaps((*acc)[4], d[0].hi[0], d[1].hi[0], d[2].hi[0], d[3].hi[0], x); }
  if (COT > 5u) { (*acc)[5] = fmaTaps((*acc)[5], d[0].hi[1], d[1].hi[1], d[2].hi[1], d[3].hi[1], x); }
  if (COT > 6u) { (*acc)[6] = fmaTaps((*acc)[6], d[0].hi[2], d[1].hi[2], d[2].hi[2], d[3].hi[2], x); }
  if (COT > 7u) { (*acc)[7] = fmaTaps((*acc)[7], d[0].hi[3], d[1].hi[3], d[2].hi[3], d[3].hi[3], x); }
}
fn ciStep1(acc: ptr<function, Tile>, d: DyCols, x: Windows) {
  (*acc)[min(COT + 0u, 15u)] = fmaTaps((*acc)[min(COT + 0u, 15u)], d[0].lo[0], d[1].lo[0], d[2].lo[0], d[3].lo[0], x);
  if (COT > 1u) { (*acc)[min(COT + 1u, 15u)] = fmaTaps((*acc)[min(COT + 1u, 15u)], d[0].lo[1], d[1].lo[1], d[2].lo[1], d[3].lo[1], x); }
  if (COT > 2u) { (*acc)[min(COT + 2u, 15u)] = fmaTaps((*acc)[min(COT + 2u, 15u)], d[0].lo[2], d[1].lo[2], d[2].lo[2], d[3].lo[2], x); }
  if (COT > 3u) { (*acc)[min(COT + 3u, 15u)] = fmaTaps((*acc)[min(COT + 3u, 15u)], d[0].lo[3], d[1].lo[3], d[2].lo[3], d[3].lo[3], x); }
  if (COT > 4u) { (*acc)[min(COT + 4u, 15u)] = fmaTaps((*acc)[min(COT + 4u, 15u)], d[0].hi[0], d[1].hi[0], d[2].hi[0], d[3].hi[0], x); }
  if (COT > 5u) { (*acc)[min(COT + 5u, 15u)] = fmaTaps((*acc)[min(COT + 5u, 15u)], d[0].hi[1], d[1].hi[1], d[2].hi[1], d[3].hi[1], x); }
  if (COT > 6u) { (*acc)[min(COT + 6u, 15u)] = fmaTaps((*acc)[min(COT + 6u, 15u)], d[0].hi[2], d[1].hi[2], d[2].hi[2], d[3].hi[2], x); }
  if (COT > 7u) { (*acc)[min(COT + 7u, 15u)] = fmaTaps((*acc)[min(COT + 7u, 15u)], d[0].hi[3], d[1].hi[3], d[2].hi[3], d[3].hi[3], x); }
}
fn ciStep2(acc: ptr<function, Tile>, d: DyCols, x: Windows) {
  (*acc)[min(2u * COT + 0u, 15u)] = fmaTaps((*acc)[min(2u * COT + 0u, 15u)], d[0].lo[0], d[1].lo[0], d[2].lo[0], d[3].lo[0], x);
  if (COT > 1u) { (*acc)[min(2u * COT + 1u, 15u)] = fmaTaps((*acc)[min(2u * COT + 1u, 15u)], d[0].lo[1], d[1].lo[1], d[2].lo[1], d[3].lo[1], x); }
  if (COT > 2u) { (*acc)[min(2u * COT + 2u, 15u)] = fmaTaps((*acc)[min(2u * COT + 2u, 15u)], d[0].lo[2], d[1].lo[2], d[2].lo[2], d[3].lo[2], x); }
  if (COT > 3u) { (*acc)[min(2u * COT + 3u, 15u)] = fmaTaps((*acc)[min(2u * COT + 3u, 15u)], d[0].lo[3], d[1].lo[3], d[2].lo[3], d[3].lo[3], x); }
  if (COT > 4u) { (*acc)[min(2u * COT + 4u, 15u)] = fmaTaps((*acc)[min(2u * COT + 4u, 15u)], d[0].hi[0], d[1].hi[0], d[2].hi[0], d[3].hi[0], x); }
  if (COT > 5u) { (*acc)[min(2u * COT + 5u, 15u)] = fmaTaps((*acc)[min(2u * COT + 5u, 15u)], d[0].hi[1], d[1].hi[1], d[2].hi[1], d[3].hi[1], x); }
  if (COT > 6u) { (*acc)[min(2u * COT + 6u, 15u)] = fmaTaps((*acc)[min(2u * COT + 6u, 15u)], d[0].hi[2], d[1].hi[2], d[2].hi[2], d[3].hi[2], x); }
  if (COT > 7u) { (*acc)[min(2u * COT + 7u, 15u)] = fmaTaps((*acc)[min(2u * COT + 7u, 15u)], d[0].hi[3], d[1].hi[3], d[2].hi[3], d[3].hi[3], x); }
}
fn ciStep3(acc: ptr<function, Tile>, d: DyCols, x: Windows) {
  (*acc)[min(3u * COT + 0u, 15u)] = fmaTaps((*acc)[min(3u * COT + 0u, 15u)], d[0].lo[0], d[1].lo[0], d[2].lo[0], d[3].lo[0], x);
  if (COT > 1u) { (*acc)[min(3u * COT + 1u, 15u)] = fmaTaps((*acc)[min(3u * COT + 1u, 15u)], d[0].lo[1], d[1].lo[1], d[2].lo[1], d[3].lo[1], x); }
  if (COT > 2u) { (*acc)[min(3u * COT + 2u, 15u)] = fmaTaps((*acc)[min(3u * COT + 2u, 15u)], d[0].lo[2], d[1].lo[2], d[2].lo[2], d[3].lo[2], x); }
  if (COT > 3u) { (*acc)[min(3u * COT + 3u, 15u)] = fmaTaps((*acc)[min(3u * COT + 3u, 15u)], d[0].lo[3], d[1].lo[3], d[2].lo[3], d[3].lo[3], x); }
  if (COT > 4u) { (*acc)[min(3u * COT + 4u, 15u)] = fmaTaps((*acc)[min(3u * COT + 4u, 15u)], d[0].hi[0], d[1].hi[0], d[2].hi[0], d[3].hi[0], x); }
  if (COT > 5u) { (*acc)[min(3u * COT + 5u, 15u)] = fmaTaps((*acc)[min(3u * COT + 5u, 15u)], d[0].hi[1], d[1].hi[1], d[2].hi[1], d[3].hi[1], x); }
  if (COT > 6u) { (*acc)[min(3u * COT + 6u, 15u)] = fmaTaps((*acc)[min(3u * COT + 6u, 15u)], d[0].hi[2], d[1].hi[2], d[2].hi[2], d[3].hi[2], x); }
  if (COT > 7u) { (*acc)[min(3u * COT + 7u, 15u)] = fmaTaps((*acc)[min(3u * COT + 7u, 15u)], d[0].hi[3], d[1].hi[3], d[2].hi[3], d[3].hi[3], x); }
}

fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

// The x vec4s an invocation carries from one dy column to the next: column ci of `cur` is input
// channel ci's current vec4 of phase ph, of `cur1` the same for phase 1 (TK1 > 0).
struct Carry { cur: mat4x4f, cur1: mat4x4f }

// Input vec4 j + 1 of the row at b: column 0 phase ph, column 1 phase 1 (whose row follows
// phase 0's; zero unless TK1 > 0).
fn nextX(b: u32, j: u32) -> mat2x4f {
  var n = mat2x4f(X[b + j + 1u], vec4f());
  if (TK1 > 0u) { n[1] = X[b + p.Wp4 + j + 1u]; }
  return n;
}

// The x vec4 at column j of each input channel (and of phase 1): where a row's columns start.
fn carryAt(xb: vec4u, j: u32) -> Carry {
  var k: Carry;
  k.cur[0] = X[xb.x + j];
  if (CIT > 1u) { k.cur[1] = X[xb.y + j]; }
  if (CIT > 2u) { k.cur[2] = X[xb.z + j]; }
  if (CIT > 3u) { k.cur[3] = X[xb.w + j]; }
  if (TK1 > 0u) {
    k.cur1[0] = X[xb.x + p.Wp4 + j];
    if (CIT > 1u) { k.cur1[1] = X[xb.y + p.Wp4 + j]; }
    if (CIT > 2u) { k.cur1[2] = X[xb.z + p.Wp4 + j]; }
    if (CIT > 3u) { k.cur1[3] = X[xb.w + p.Wp4 + j]; }
  }
  return k;
}

// One input channel's tap windows under dy columns j…j+U−1, and its carried vec4s after them.
struct ChannelStep { w: Windows, cur: vec4f, cur1: vec4f }

fn channelStep(cur: vec4f, cur1: vec4f, b: u32, j: u32) -> ChannelStep {
  var r: ChannelStep;
  let n0 = nextX(b, j);
  r.w[0] = windows(cur, n0[0], cur1, n0[1]);
  r.cur = n0[0];
  r.cur1 = n0[1];
  if (U > 1u) {
    let n1 = nextX(b, j + 1u);
    r.w[1] = windows(r.cur, n1[0], r.cur1, n1[1]);
    r.cur = n1[0];
    r.cur1 = n1[1];
  }
  if (U > 2u) {
    let n2 = nextX(b, j + 2u);
    r.w[2] = windows(r.cur, n2[0], r.cur1, n2[1]);
    let n3 = nextX(b, j + 3u);
    r.w[3] = windows(n2[0], n3[0], n2[1], n3[1]);
    r.cur = n3[0];
    r.cur1 = n3[1];
  }
  return r;
}

// The input windows of one channel under U one-vec4 rows: row u's x starts at b + u·rowStep.
fn rowUnit(b: u32) -> mat4x4f {
  var c1 = vec4f();
  if (TK1 > 0u) { c1 = X[b + p.Wp4]; }
  let n = nextX(b, 0u);
  return windows(X[b], n[0], c1, n[1]);
}

fn channelRows(b: u32, rowStep: u32) -> Windows {
  var w: Windows;
  w[0] = rowUnit(b);
  if (U > 1u) { w[1] = rowUnit(b + rowStep); }
  if (U > 2u) {
    w[2] = rowUnit(b + 2u * rowStep);
    w[3] = rowUnit(b + 3u * rowStep);
  }
  return w;
}

// The COT dy vec4s of the step's U units, unit u at column j + u·step, added to the bias sums.
fn dyUnits(accB: ptr<function, DyCol>, dyb: DyRows, j: u32, step: u32) -> DyCols {
  var d: DyCols;
  d[0] = dyColumn(dyb, j);
  if (U > 1u) { d[1] = dyColumn(dyb, j + step); }
  if (U > 2u) {
    d[2] = dyColumn(dyb, j + 2u * step);
    d[3] = dyColumn(dyb, j + 3u * step);
  }
  if (HAS_BIAS) {
    (*accB).lo += d[0].lo;
    if (COT > 4u) { (*accB).hi += d[0].hi; }
    if (U > 1u) {
      (*accB).lo += d[1].lo;
      if (COT > 4u) { (*accB).hi += d[1].hi; }
    }
    if (U > 2u) {
      (*accB).lo += d[2].lo;
      (*accB).lo += d[3].lo;
      if (COT > 4u) {
        (*accB).hi += d[2].hi;
        (*accB).hi += d[3].hi;
      }
    }
  }
  return d;
}

// U one-vec4 rows from the step's first (dyb, xb): every tap's products.
fn rows(acc: ptr<function, Tile>, accB: ptr<function, DyCol>, dyb: DyRows, xb: vec4u, xRowStep: u32) {
  let d = dyUnits(accB, dyb, 0u, p.Wdv);
  ciStep0(acc, d, channelRows(xb.x, xRowStep));
  if (CIT > 1u) { ciStep1(acc, d, channelRows(xb.y, xRowStep)); }
  if (CIT > 2u) { ciStep2(acc, d, channelRows(xb.z, xRowStep)); }
  if (CIT > 3u) { ciStep3(acc, d, channelRows(xb.w, xRowStep)); }
}

// dy columns j…j+U−1: loads their COT dy vec4s and the next U x vec4s per input channel,
// and adds every tap's products (xb: the x row bases of the CIT input channels).
fn columns(acc: ptr<function, Tile>, accB: ptr<function, DyCol>, k: ptr<function, Carry>, dyb: DyRows, xb: vec4u, j: u32) {
  let d = dyUnits(accB, dyb, j, 1u);
  let s0 = channelStep((*k).cur[0], (*k).cur1[0], xb.x, j);
  ciStep0(acc, d, s0.w);
  (*k).cur[0] = s0.cur;
  (*k).cur1[0] = s0.cur1;
  if (CIT > 1u) {
    let s1 = channelStep((*k).cur[1], (*k).cur1[1], xb.y, j);
    ciStep1(acc, d, s1.w);
    (*k).cur[1] = s1.cur;
    (*k).cur1[1] = s1.cur1;
  }
  if (CIT > 2u) {
    let s2 = channelStep((*k).cur[2], (*k).cur1[2], xb.z, j);
    ciStep2(acc, d, s2.w);
    (*k).cur[2] = s2.cur;
    (*k).cur1[2] = s2.cur1;
  }
  if (CIT > 3u) {
    let s3 = channelStep((*k).cur[3], (*k).cur1[3], xb.w, j);
    ciStep3(acc, d, s3.w);
    (*k).cur[3] = s3.cur;
    (*k).cur1[3] = s3.cur1;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  // Lane l of (cot, chunk) owns input-channel tile l % tilesCi and tap group l / tilesCi.
  let l = id % p.lanes;
  var q = id / p.lanes;
  let cot = q % p.tilesCo;
  let chunk = q / p.tilesCo;
  let valid = l < p.lanesUsed;
  let lc = min(l, p.lanesUsed - 1u);
  let cit = lc % p.tilesCi;
  let tap = lc / p.tilesCi;
  let tapsPerRow = p.groups;
  let kh = tap / tapsPerRow;
  let a0 = (tap % tapsPerRow) * TK;

  // Channels past Ci/Co are clamped for loads (no branches in the loop) and masked on store.
  let o = vec4u(min(cot * COT, p.Co - 1u), min(cot * COT + 1u, p.Co - 1u),
                min(cot * COT + 2u, p.Co - 1u), min(cot * COT + 3u, p.Co - 1u));
  let oHi = vec4u(min(cot * COT + 4u, p.Co - 1u), min(cot * COT + 5u, p.Co - 1u),
                  min(cot * COT + 6u, p.Co - 1u), min(cot * COT + 7u, p.Co - 1u));
  let i = vec4u(min(cit * CIT, p.Ci - 1u), min(cit * CIT + 1u, p.Ci - 1u),
                min(cit * CIT + 2u, p.Ci - 1u), min(cit * CIT + 3u, p.Ci - 1u));
  // Tap a reads input vec4 column j + a/4 with shift a%4; the launcher makes a0 a multiple of 4
  // (TK = 4 whenever a phase has more than 4 taps), so shifts are k = a − a0.
  let colOff = a0 / 4u;
  let lane = id % max(SG, 1u);
  // The output channel whose dy this lane loads when the subgroup shares them.
  let laneCh = min(cot * COT + min(lane, COT - 1u), p.Co - 1u);

  var acc: Tile;
  var accB: DyCol;
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.rows);
  let S = p.S;
  let dyPlane = p.Ho * p.Wdv;
  let xPlane = p.Hp * p.P * p.Wp4;
  if (FLAT) {
    // Row (n, oh) and column j advance by counters: a division per step is a per-lane loop.
    var n = r0 / p.Ho;
    var oh = r0 % p.Ho;
    var j = 0u;
    // vec4s between the x rows of consecutive output rows (UROWS).
    let xRowStep = S * p.P * p.Wp4;
    let steps = select((r1 - r0) * (p.Wdv / U), (r1 - r0) / U, UROWS);
    for (var st = 0u; st < steps; st++) {
      let dyRow = (n * p.Co * p.Ho + oh) * p.Wdv;
      let xRow = (((n * p.Ci * p.Hp + oh * S + kh) * p.P) + p.ph) * p.Wp4 + colOff;
      let xb = vec4u(xRow) + i * xPlane;
      let dyb = DyRows(vec4u(dyRow) + o * dyPlane, vec4u(dyRow) + oHi * dyPlane, dyRow + laneCh * dyPlane);
      if (UROWS) {
        rows(&acc, &accB, dyb, xb, xRowStep);
        oh += U;
        let imageDone = oh == p.Ho;
        oh = select(oh, 0u, imageDone);
        n = select(n, n + 1u, imageDone);
      } else {
        var k = carryAt(xb, j);
        columns(&acc, &accB, &k, dyb, xb, j);
        j += U;
        let rowDone = j == p.Wdv;
        j = select(j, 0u, rowDone);
        oh = select(oh, oh + 1u, rowDone);
        let imageDone = oh == p.Ho;
        oh = select(oh, 0u, imageDone);
        n = select(n, n + 1u, imageDone);
      }
    }
  } else {
    for (var row = r0; row < r1; row++) {
      let n = row / p.Ho;
      let oh = row % p.Ho;
      let dyRow = (n * p.Co * p.Ho + oh) * p.Wdv;
      let xRow = (((n * p.Ci * p.Hp + oh * S + kh) * p.P) + p.ph) * p.Wp4 + colOff;
      let xb = vec4u(xRow) + i * xPlane;
      var k = carryAt(xb, 0u);
      let dyb = DyRows(vec4u(dyRow) + o * dyPlane, vec4u(dyRow) + oHi * dyPlane, dyRow + laneCh * dyPlane);
      for (var j = 0u; j < p.Wdv; j += U) {
        columns(&acc, &accB, &k, dyb, xb, j);
      }
    }
  }
  if (!valid) { return; }

  let pb = chunk * p.stride;
  for (var co = 0u; co < COT; co++) {
    let oc = cot * COT + co;
    if (oc >= p.Co) { break; }
    for (var ci = 0u; ci < CIT; ci++) {
      let ic = cit * CIT + ci;
      if (ic >= p.Ci) { break; }
      for (var c = 0u; c < NCOL; c++) {
        // Column c: tap a0 + c of phase ph, or (c ≥ TK) tap c − TK of phase 1.
        let a = select(a0 + c, c - TK, c >= TK);
        let kph = select(p.ph, 1u, c >= TK);
        if (a >= select(p.taps, p.taps1, c >= TK)) { continue; }
        let kw = a * S + kph;
        let at = pb + ((oc * p.Ci + ic) * p.KH + kh) * p.KW + kw;
        var v = hsum(acc[ci * COT + co][c]);
        if (ACCUMULATE) { v = part[at] + v; }
        part[at] = v;
      }
    }
    if (HAS_BIAS && cit == 0u && tap == 0u) {
      part[pb + p.nW + oc] = hsum(select(accB.hi[co % 4u], accB.lo[co % 4u], co < 4u));
    }
  }
}
