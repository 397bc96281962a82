// conv2d weight and bias gradients, as chunked partial sums (implicit GEMM, no im2col):
//   part[c, ((o·Ci + i)·KH + kh)·KW + kw] = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow] · Xpad[n,i,oh·S + kh, ow·S + kw]
//   part[c, nW + o]                       = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow]          (HAS_BIAS)
// conv2d_prep.wgsl:reduce then sums the chunks into dw [Co,Ci,KH,KW] and db [Co].
// X:  [N,Ci,Hp,P,Wp4·4] f32 as vec4 — zero-padded and split into P = min(S, KW) column phases
//     by conv2d_prep.wgsl:pad, so tap kw = a·S + ph reads phase ph at column ow + a.
// dY: [N,Co,Ho,Wdv·4] f32 as vec4, rows zero-padded to whole vec4s.
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

struct Params {
  Ci: u32, Co: u32, Ho: u32, rows: u32,
  rowsPerChunk: u32, Wdv: u32, Hp: u32, Wp4: u32,
  S: u32, KH: u32, KW: u32, ph: u32,
  taps: u32, groups: u32, tilesCi: u32, tilesCo: u32,
  total: u32, stride: u32, nW: u32, P: u32,
  taps1: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> DY: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

#include "flat_id.wgsl"

const COT: u32 = 4u; // @specialize output channels per invocation, 1–4
const CIT: u32 = 4u; // @specialize input channels per invocation, 1–4
const TK: u32 = 3u; // @specialize taps of phase ph per invocation (consecutive a), 1–4
const TK1: u32 = 0u; // @specialize taps of phase 1 in the same invocation (stride 2), TK + TK1 ≤ 4
const NCOL: u32 = TK + TK1;
// Matrix column of phase 1's first tap (clamped so the unused case still indexes in range).
const C1: u32 = min(TK, 3u);

// acc[co·4 + ci]: matrix column k = tap a0 + k of phase ph for k < TK, then tap k − TK of
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

fn fmaTaps(a: mat4x4f, d: vec4f, x: mat4x4f) -> mat4x4f {
  var r = a;
  r[0] = fma(d, x[0], a[0]);
  if (NCOL > 1u) { r[1] = fma(d, x[1], a[1]); }
  if (NCOL > 2u) { r[2] = fma(d, x[2], a[2]); }
  if (NCOL > 3u) { r[3] = fma(d, x[3], a[3]); }
  return r;
}

// Adds the products of input channel ci's windows x with the COT dy vectors d (matrix columns).
fn ciStep0(acc: ptr<function, Tile>, d: mat4x4f, x: mat4x4f) {
  (*acc)[0] = fmaTaps((*acc)[0], d[0], x);
  if (COT > 1u) { (*acc)[4] = fmaTaps((*acc)[4], d[1], x); }
  if (COT > 2u) { (*acc)[8] = fmaTaps((*acc)[8], d[2], x); }
  if (COT > 3u) { (*acc)[12] = fmaTaps((*acc)[12], d[3], x); }
}
fn ciStep1(acc: ptr<function, Tile>, d: mat4x4f, x: mat4x4f) {
  (*acc)[1] = fmaTaps((*acc)[1], d[0], x);
  if (COT > 1u) { (*acc)[5] = fmaTaps((*acc)[5], d[1], x); }
  if (COT > 2u) { (*acc)[9] = fmaTaps((*acc)[9], d[2], x); }
  if (COT > 3u) { (*acc)[13] = fmaTaps((*acc)[13], d[3], x); }
}
fn ciStep2(acc: ptr<function, Tile>, d: mat4x4f, x: mat4x4f) {
  (*acc)[2] = fmaTaps((*acc)[2], d[0], x);
  if (COT > 1u) { (*acc)[6] = fmaTaps((*acc)[6], d[1], x); }
  if (COT > 2u) { (*acc)[10] = fmaTaps((*acc)[10], d[2], x); }
  if (COT > 3u) { (*acc)[14] = fmaTaps((*acc)[14], d[3], x); }
}
fn ciStep3(acc: ptr<function, Tile>, d: mat4x4f, x: mat4x4f) {
  (*acc)[3] = fmaTaps((*acc)[3], d[0], x);
  if (COT > 1u) { (*acc)[7] = fmaTaps((*acc)[7], d[1], x); }
  if (COT > 2u) { (*acc)[11] = fmaTaps((*acc)[11], d[2], x); }
  if (COT > 3u) { (*acc)[15] = fmaTaps((*acc)[15], d[3], x); }
}

fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = flat_id(gid, nwg);
  if (id >= p.total) { return; }
  let cit = id % p.tilesCi;
  var q = id / p.tilesCi;
  let cot = q % p.tilesCo;
  q /= p.tilesCo;
  let tapsPerRow = p.groups;
  let tap = q % (p.KH * tapsPerRow);
  let chunk = q / (p.KH * tapsPerRow);
  let kh = tap / tapsPerRow;
  let a0 = (tap % tapsPerRow) * TK;

  // Channels past Ci/Co are clamped for loads (no branches in the loop) and masked on store.
  let o0 = min(cot * COT, p.Co - 1u);
  let o1 = min(cot * COT + 1u, p.Co - 1u);
  let o2 = min(cot * COT + 2u, p.Co - 1u);
  let o3 = min(cot * COT + 3u, p.Co - 1u);
  let i0 = min(cit * CIT, p.Ci - 1u);
  let i1 = min(cit * CIT + 1u, p.Ci - 1u);
  let i2 = min(cit * CIT + 2u, p.Ci - 1u);
  let i3 = min(cit * CIT + 3u, p.Ci - 1u);
  // Tap a reads input vec4 column j + a/4 with shift a%4; the launcher makes a0 a multiple of 4
  // (TK = 4 whenever a phase has more than 4 taps), so shifts are k = a − a0.
  let colOff = a0 / 4u;

  var acc: Tile;
  var accB = mat4x4f();
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.rows);
  let S = p.S;
  for (var row = r0; row < r1; row++) {
    let n = row / p.Ho;
    let oh = row % p.Ho;
    let dyRow = (n * p.Co * p.Ho + oh) * p.Wdv;
    let dyPlane = p.Ho * p.Wdv;
    let xPlane = p.Hp * p.P * p.Wp4;
    let xRow = (((n * p.Ci * p.Hp + oh * S + kh) * p.P) + p.ph) * p.Wp4 + colOff;
    let xb0 = xRow + i0 * xPlane;
    let xb1 = xRow + i1 * xPlane;
    let xb2 = xRow + i2 * xPlane;
    let xb3 = xRow + i3 * xPlane;
    // Phase 1's row follows phase 0's (used when TK1 > 0).
    let x1o = p.Wp4;
    var c0 = X[xb0];
    var c1 = vec4f();
    var c2 = vec4f();
    var c3 = vec4f();
    var e0 = vec4f();
    var e1 = vec4f();
    var e2 = vec4f();
    var e3 = vec4f();
    if (CIT > 1u) { c1 = X[xb1]; }
    if (CIT > 2u) { c2 = X[xb2]; }
    if (CIT > 3u) { c3 = X[xb3]; }
    if (TK1 > 0u) {
      e0 = X[xb0 + x1o];
      if (CIT > 1u) { e1 = X[xb1 + x1o]; }
      if (CIT > 2u) { e2 = X[xb2 + x1o]; }
      if (CIT > 3u) { e3 = X[xb3 + x1o]; }
    }
    for (var j = 0u; j < p.Wdv; j++) {
      var d = mat4x4f();
      d[0] = DY[dyRow + o0 * dyPlane + j];
      if (COT > 1u) { d[1] = DY[dyRow + o1 * dyPlane + j]; }
      if (COT > 2u) { d[2] = DY[dyRow + o2 * dyPlane + j]; }
      if (COT > 3u) { d[3] = DY[dyRow + o3 * dyPlane + j]; }
      if (HAS_BIAS) { accB += d; }
      let n0 = X[xb0 + j + 1u];
      var f0 = vec4f();
      if (TK1 > 0u) { f0 = X[xb0 + x1o + j + 1u]; }
      ciStep0(&acc, d, windows(c0, n0, e0, f0));
      c0 = n0;
      e0 = f0;
      if (CIT > 1u) {
        let n1 = X[xb1 + j + 1u];
        var f1 = vec4f();
        if (TK1 > 0u) { f1 = X[xb1 + x1o + j + 1u]; }
        ciStep1(&acc, d, windows(c1, n1, e1, f1));
        c1 = n1;
        e1 = f1;
      }
      if (CIT > 2u) {
        let n2 = X[xb2 + j + 1u];
        var f2 = vec4f();
        if (TK1 > 0u) { f2 = X[xb2 + x1o + j + 1u]; }
        ciStep2(&acc, d, windows(c2, n2, e2, f2));
        c2 = n2;
        e2 = f2;
      }
      if (CIT > 3u) {
        let n3 = X[xb3 + j + 1u];
        var f3 = vec4f();
        if (TK1 > 0u) { f3 = X[xb3 + x1o + j + 1u]; }
        ciStep3(&acc, d, windows(c3, n3, e3, f3));
        c3 = n3;
        e3 = f3;
      }
    }
  }

  let pb = chunk * p.stride;
  for (var co = 0u; co < COT; co++) {
    let o = cot * COT + co;
    if (o >= p.Co) { break; }
    for (var ci = 0u; ci < CIT; ci++) {
      let i = cit * CIT + ci;
      if (i >= p.Ci) { break; }
      for (var k = 0u; k < NCOL; k++) {
        // Column k: tap a0 + k of phase ph, or (k ≥ TK) tap k − TK of phase 1.
        let a = select(a0 + k, k - TK, k >= TK);
        let kph = select(p.ph, 1u, k >= TK);
        if (a >= select(p.taps, p.taps1, k >= TK)) { continue; }
        let kw = a * S + kph;
        part[pb + ((o * p.Ci + i) * p.KH + kh) * p.KW + kw] = hsum(acc[co * 4u + ci][k]);
      }
    }
    if (HAS_BIAS && cit == 0u && tap == 0u) { part[pb + p.nW + o] = hsum(accB[co]); }
  }
}
