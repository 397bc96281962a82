// Direct conv2d as an implicit GEMM with register tiles (no im2col buffer):
//   Y[n, o, oh·soH + ooH, ow·soW + ooW] (+)= bias[o] + Σ_{r,kh,kw} Xpad[n, r, oh·S + kh, ow·S + kw] · W[r, kh, kw, o]
// for oh < Hq, ow < Wq, o < O.
// X:  the zero-padded input split into P column phases by conv2d_prep.wgsl:pad —
//     [N,R,Hp,P,Wp4·4] f32 read as vec4, X[n,r,h,φ,m] = Xpad[n,r,h,m·S + φ] — so tap
//     kw = a·S + φ of output column ow reads phase φ at m = ow + a: contiguous in ow for any
//     stride, and every load is an aligned vec4 with no border branches (P = min(S, KW)).
// W:  [R,KH,G,TK,OV·4] f32 read as vec4 (conv2d_prep.wgsl:repack): the taps of each kernel row
//     in groups of TK (G = P·Gp groups, Gp per phase, tap a = g·TK + k of phase φ), zero for
//     taps past the kernel and for channels ≥ O, output channels fastest.
// Y:  [N,O,outH,outW] f32.
// The forward pass uses it with (R,O) = (Ci,Co) and soH = soW = 1; the input gradient uses it
// once per stride phase as a stride-1 correlation of the padded dy with the flipped sub-kernel,
// writing every S-th row and column of dx (soH = soW = stride).
//
// Each invocation computes 4·COTV output channels × 4·TWV output columns × THO output rows.
// Why this shape (DESIGN.md §4): each storage load is a per-lane loop on lavapipe, so the
// kernel maximises FMAs per loaded vec4 — a window of TWV+1 input vec4s feeds all TK tap
// shifts (built by swizzles, not reloads), a weight vec4 feeds TWV·THO·4 outputs (rows
// matter for narrow late-stage images).
// Why it is written this way (measured on SwiftShader, which does not unroll loops):
//   - the register tile uses constant indices, guarded by the @specialize sizes (constant
//     guards cost nothing): an accumulator array indexed by a loop counter lives in memory
//     there and ran 10× slower;
//   - one flat loop over (r, kh, tap group) with a branch-free body: an extra loop level or an
//     `if` around FMAs (e.g. skipping missing taps) cost 35–75%, so missing taps get zero
//     weights instead, and TK is chosen per conv to keep those few.
// No shared memory or barriers (slow on SwiftShader).

struct Params {
  R: u32, Hp: u32, Wp4: u32, S: u32,
  P: u32, KH: u32, G: u32, Gp: u32,
  O: u32, OV: u32, outH: u32, outW: u32,
  Hq: u32, Wq: u32, soH: u32, ooH: u32,
  soW: u32, ooW: u32, tilesW: u32, N: u32,
  total: u32, tilesH: u32, _p1: u32, _p2: u32,
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

const COTV: u32 = 2u; // @specialize output channels per invocation / 4, 1–4
const TWV: u32 = 2u; // @specialize output columns per invocation / 4, 1–4
const THO: u32 = 1u; // @specialize output rows per invocation, TWV·THO ≤ 4
const TK: u32 = 3u; // @specialize taps per group, 1–4
// Column blocks of 4 outputs per invocation: slot q is row q / TWV, vec4 column q % TWV.
const SLOTS: u32 = TWV * THO;
// Slot q's input window starts at L[q + q / TWV] (see accumulate).
const A1: u32 = 1u + 1u / TWV;
const A2: u32 = 2u + 2u / TWV;
const A3: u32 = 3u + 3u / TWV;

// acc[q·4 + c] holds slot q's 4 output columns (the vec4 in each matrix column) of output
// channels 4c…4c+3 (the four matrix columns).
alias Tile = array<mat4x4f, 16>;

fn fma4(a: mat4x4f, w: vec4f, x: vec4f) -> mat4x4f {
  return mat4x4f(fma(vec4f(w.x), x, a[0]), fma(vec4f(w.y), x, a[1]), fma(vec4f(w.z), x, a[2]), fma(vec4f(w.w), x, a[3]));
}

// One tap: weights w (matrix column c = output channels 4c…4c+3), inputs xq under slot q.
fn tapStep(acc: ptr<function, Tile>, w: mat4x4f, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) {
  (*acc)[0] = fma4((*acc)[0], w[0], x0);
  if (COTV > 1u) { (*acc)[1] = fma4((*acc)[1], w[1], x0); }
  if (COTV > 2u) { (*acc)[2] = fma4((*acc)[2], w[2], x0); }
  if (COTV > 3u) { (*acc)[3] = fma4((*acc)[3], w[3], x0); }
  if (SLOTS > 1u) {
    (*acc)[4] = fma4((*acc)[4], w[0], x1);
    if (COTV > 1u) { (*acc)[5] = fma4((*acc)[5], w[1], x1); }
    if (COTV > 2u) { (*acc)[6] = fma4((*acc)[6], w[2], x1); }
    if (COTV > 3u) { (*acc)[7] = fma4((*acc)[7], w[3], x1); }
  }
  if (SLOTS > 2u) {
    (*acc)[8] = fma4((*acc)[8], w[0], x2);
    if (COTV > 1u) { (*acc)[9] = fma4((*acc)[9], w[1], x2); }
    if (COTV > 2u) { (*acc)[10] = fma4((*acc)[10], w[2], x2); }
    if (COTV > 3u) { (*acc)[11] = fma4((*acc)[11], w[3], x2); }
  }
  if (SLOTS > 3u) {
    (*acc)[12] = fma4((*acc)[12], w[0], x3);
    if (COTV > 1u) { (*acc)[13] = fma4((*acc)[13], w[1], x3); }
    if (COTV > 2u) { (*acc)[14] = fma4((*acc)[14], w[2], x3); }
    if (COTV > 3u) { (*acc)[15] = fma4((*acc)[15], w[3], x3); }
  }
}

fn loadWeights(base: u32) -> mat4x4f {
  var w = mat4x4f();
  w[0] = Wt[base];
  if (COTV > 1u) { w[1] = Wt[base + 1u]; }
  if (COTV > 2u) { w[2] = Wt[base + 2u]; }
  if (COTV > 3u) { w[3] = Wt[base + 3u]; }
  return w;
}

// Elements k…k+3 of the 8-element concatenation (a, b).
fn win1(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.yzw, b.x); }
fn win2(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.zw, b.xy); }
fn win3(a: vec4f, b: vec4f) -> vec4f { return vec4f(a.w, b.xyz); }

struct Origin { n: u32, oh0: u32, ot: u32, ov0: u32 }

// Column tiles vary fastest and the channel tile slowest, so a workgroup shares weights.
fn origin(id: u32) -> Origin {
  let tw = id % p.tilesW;
  var q = id / p.tilesW;
  let th = q % p.tilesH;
  q /= p.tilesH;
  return Origin(q % p.N, th * THO, q / p.N, tw * TWV);
}

fn accumulate(acc: ptr<function, Tile>, t: Origin) {
  let S = p.S;
  let xImage = t.n * p.R * p.Hp;
  let steps = p.R * p.KH * p.G;
  // vec4s between the inputs of consecutive output rows (S input rows of P phases).
  let rowStep = S * p.P * p.Wp4;
  var wb = t.ot * COTV;
  let wStep = TK * p.OV;
  for (var st = 0u; st < steps; st++) {
    let gi = st % p.G;
    let rk = st / p.G;
    let kh = rk % p.KH;
    let r = rk / p.KH;
    let ph = gi / p.Gp;
    // Groups after the first in a phase have TK = 4 and start at tap 4g: vec4 column g.
    let sb = ((xImage + r * p.Hp + t.oh0 * S + kh) * p.P + ph) * p.Wp4 + gi % p.Gp + t.ov0;
    // The input windows: TWV+1 vec4s per output row, rows one after the other.
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
    tapStep(acc, loadWeights(wb), L[0], L[A1], L[A2], L[A3]);
    if (TK > 1u) {
      tapStep(acc, loadWeights(wb + p.OV), win1(L[0], L[1]), win1(L[A1], L[A1 + 1u]), win1(L[A2], L[A2 + 1u]), win1(L[A3], L[A3 + 1u]));
    }
    if (TK > 2u) {
      tapStep(acc, loadWeights(wb + 2u * p.OV), win2(L[0], L[1]), win2(L[A1], L[A1 + 1u]), win2(L[A2], L[A2 + 1u]), win2(L[A3], L[A3 + 1u]));
    }
    if (TK > 3u) {
      tapStep(acc, loadWeights(wb + 3u * p.OV), win3(L[0], L[1]), win3(L[A1], L[A1 + 1u]), win3(L[A2], L[A2 + 1u]), win3(L[A3], L[A3 + 1u]));
    }
    wb += wStep;
  }
}

fn biasOf(o: u32) -> f32 {
  if (HAS_BIAS) { return B[o]; }
  return 0.0;
}

// Scalar stores: any output stride and offset (the input gradient's stride phases, odd widths).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.total) { return; }
  let t = origin(id);
  var acc: Tile;
  accumulate(&acc, t);
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
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.total) { return; }
  let t = origin(id);
  var acc: Tile;
  accumulate(&acc, t);
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
