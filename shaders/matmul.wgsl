// C[b] = alpha · op(A[b]) · op(B[b]) (+ beta · C[b] when ACCUMULATE), row-major f32.
// A: [M,K] or, with TRANS_A, [K,M]; B: [K,N] or, with TRANS_B, [N,K]; C: [M,N].
// Each invocation owns a TM×TN block of C (TM, TN multiples of 4, at most 16), barrier-free
// because workgroup barriers are very slow on SwiftShader and shared memory brings nothing on
// lavapipe. Per step of 4 in k it loads a 4×4 block of op(A) per 4 rows and of op(B) per 4
// columns as mat4x4s and does TM·TN·4 FMAs.
// Why it is written this way (measured; docs/DESIGN.md, "Software GPUs"):
//   - SwiftShader does not unroll loops, and a function-scope array indexed by a loop counter
//     lives in memory there: the register tile is only ever indexed by constants, guarded by
//     the @specialize sizes (constant guards cost nothing);
//   - the K loop body is branch-free: out-of-range rows/columns are clamped for loads and
//     masked on store, the K % 4 tail is one masked step after the loop;
//   - every storage load is a per-lane loop on lavapipe, so main_vec4 (chosen by the launcher
//     when M, N, K and the batch strides are multiples of 4) loads vec4s; main loads scalars.

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
  // Elements before batch matrix 0 of A and of C (the weight-gradient GEMM writes chunk groups
  // into one partial-sum buffer).
  offA: u32, offC: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
// The same bindings seen as vec4s, used only by main_vec4.
@group(0) @binding(1) var<storage, read> A4: array<vec4f>;
@group(0) @binding(2) var<storage, read> B4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C4: array<vec4f>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

const TM: u32 = 8u; // @specialize rows of C per invocation: 4, 8, 12 or 16
const TN: u32 = 8u; // @specialize columns of C per invocation: 4, 8, 12 or 16
const TMV: u32 = TM / 4u;
const TNV: u32 = TN / 4u;

// acc[i][j] holds row m0 + i, columns n0 + 4j … n0 + 4j + 3.
alias Tile = array<mat4x4f, 16>;

// One k-step of 4 for one row: a = that row of op(A) at k…k+3; bj[kk] = row k + kk of op(B)
// at the columns of acc column j.
fn rowStep(r: mat4x4f, a: vec4f, b0: mat4x4f, b1: mat4x4f, b2: mat4x4f, b3: mat4x4f) -> mat4x4f {
  var o = r;
  o[0] = fma(b0[3], vec4f(a.w), fma(b0[2], vec4f(a.z), fma(b0[1], vec4f(a.y), fma(b0[0], vec4f(a.x), r[0]))));
  if (TNV > 1u) { o[1] = fma(b1[3], vec4f(a.w), fma(b1[2], vec4f(a.z), fma(b1[1], vec4f(a.y), fma(b1[0], vec4f(a.x), r[1])))); }
  if (TNV > 2u) { o[2] = fma(b2[3], vec4f(a.w), fma(b2[2], vec4f(a.z), fma(b2[1], vec4f(a.y), fma(b2[0], vec4f(a.x), r[2])))); }
  if (TNV > 3u) { o[3] = fma(b3[3], vec4f(a.w), fma(b3[2], vec4f(a.z), fma(b3[1], vec4f(a.y), fma(b3[0], vec4f(a.x), r[3])))); }
  return o;
}

// ag[r] = row 4g + r of the A block (along k); bj as in rowStep.
fn step(acc: ptr<function, Tile>, a0: mat4x4f, a1: mat4x4f, a2: mat4x4f, a3: mat4x4f,
        b0: mat4x4f, b1: mat4x4f, b2: mat4x4f, b3: mat4x4f) {
  (*acc)[0] = rowStep((*acc)[0], a0[0], b0, b1, b2, b3);
  (*acc)[1] = rowStep((*acc)[1], a0[1], b0, b1, b2, b3);
  (*acc)[2] = rowStep((*acc)[2], a0[2], b0, b1, b2, b3);
  (*acc)[3] = rowStep((*acc)[3], a0[3], b0, b1, b2, b3);
  if (TMV > 1u) {
    (*acc)[4] = rowStep((*acc)[4], a1[0], b0, b1, b2, b3);
    (*acc)[5] = rowStep((*acc)[5], a1[1], b0, b1, b2, b3);
    (*acc)[6] = rowStep((*acc)[6], a1[2], b0, b1, b2, b3);
    (*acc)[7] = rowStep((*acc)[7], a1[3], b0, b1, b2, b3);
  }
  if (TMV > 2u) {
    (*acc)[8] = rowStep((*acc)[8], a2[0], b0, b1, b2, b3);
    (*acc)[9] = rowStep((*acc)[9], a2[1], b0, b1, b2, b3);
    (*acc)[10] = rowStep((*acc)[10], a2[2], b0, b1, b2, b3);
    (*acc)[11] = rowStep((*acc)[11], a2[3], b0, b1, b2, b3);
  }
  if (TMV > 3u) {
    (*acc)[12] = rowStep((*acc)[12], a3[0], b0, b1, b2, b3);
    (*acc)[13] = rowStep((*acc)[13], a3[1], b0, b1, b2, b3);
    (*acc)[14] = rowStep((*acc)[14], a3[2], b0, b1, b2, b3);
    (*acc)[15] = rowStep((*acc)[15], a3[3], b0, b1, b2, b3);
  }
}

struct Origin { m0: u32, n0: u32, aBase: u32, bBase: u32, cBase: u32 }

// ---- scalar loads (main): any shape, any stride ----

// Rows m…m+3 of op(A) (clamped to M) at the k offsets ko = k·sAk: column r is row m + r.
fn ldA(o: Origin, m: u32, ko: vec4u) -> mat4x4f {
  let sAm = select(p.K, 1u, TRANS_A);
  let r0 = o.aBase + min(m, p.M - 1u) * sAm;
  let r1 = o.aBase + min(m + 1u, p.M - 1u) * sAm;
  let r2 = o.aBase + min(m + 2u, p.M - 1u) * sAm;
  let r3 = o.aBase + min(m + 3u, p.M - 1u) * sAm;
  return mat4x4f(
    vec4f(A[r0 + ko.x], A[r0 + ko.y], A[r0 + ko.z], A[r0 + ko.w]),
    vec4f(A[r1 + ko.x], A[r1 + ko.y], A[r1 + ko.z], A[r1 + ko.w]),
    vec4f(A[r2 + ko.x], A[r2 + ko.y], A[r2 + ko.z], A[r2 + ko.w]),
    vec4f(A[r3 + ko.x], A[r3 + ko.y], A[r3 + ko.z], A[r3 + ko.w]));
}

// Columns n…n+3 of op(B) (clamped to N) at the k offsets ko = k·sBk: column kk is row k_kk.
fn ldB(o: Origin, n: u32, ko: vec4u) -> mat4x4f {
  let sBn = select(1u, p.K, TRANS_B);
  let c = o.bBase + vec4u(min(n, p.N - 1u), min(n + 1u, p.N - 1u), min(n + 2u, p.N - 1u), min(n + 3u, p.N - 1u)) * sBn;
  return mat4x4f(
    vec4f(B[c.x + ko.x], B[c.y + ko.x], B[c.z + ko.x], B[c.w + ko.x]),
    vec4f(B[c.x + ko.y], B[c.y + ko.y], B[c.z + ko.y], B[c.w + ko.y]),
    vec4f(B[c.x + ko.z], B[c.y + ko.z], B[c.z + ko.z], B[c.w + ko.z]),
    vec4f(B[c.x + ko.w], B[c.y + ko.w], B[c.z + ko.w], B[c.w + ko.w]));
}

struct Blocks { a0: mat4x4f, a1: mat4x4f, a2: mat4x4f, a3: mat4x4f, b0: mat4x4f, b1: mat4x4f, b2: mat4x4f, b3: mat4x4f }

fn stepBlocks(acc: ptr<function, Tile>, x: Blocks) {
  step(acc, x.a0, x.a1, x.a2, x.a3, x.b0, x.b1, x.b2, x.b3);
}

// The blocks at k indices kv (each < K).
fn loadScalar(o: Origin, kv: vec4u) -> Blocks {
  let kA = kv * select(1u, p.M, TRANS_A);
  let kB = kv * select(p.N, 1u, TRANS_B);
  var x: Blocks;
  x.a0 = ldA(o, o.m0, kA);
  if (TMV > 1u) { x.a1 = ldA(o, o.m0 + 4u, kA); }
  if (TMV > 2u) { x.a2 = ldA(o, o.m0 + 8u, kA); }
  if (TMV > 3u) { x.a3 = ldA(o, o.m0 + 12u, kA); }
  x.b0 = ldB(o, o.n0, kB);
  if (TNV > 1u) { x.b1 = ldB(o, o.n0 + 4u, kB); }
  if (TNV > 2u) { x.b2 = ldB(o, o.n0 + 8u, kB); }
  if (TNV > 3u) { x.b3 = ldB(o, o.n0 + 12u, kB); }
  return x;
}

fn maskA(a: mat4x4f, ok: vec4<bool>) -> mat4x4f {
  let z = vec4f();
  return mat4x4f(select(z, a[0], ok), select(z, a[1], ok), select(z, a[2], ok), select(z, a[3], ok));
}

fn maskB(b: mat4x4f, ok: vec4<bool>) -> mat4x4f {
  let z = vec4f();
  return mat4x4f(select(z, b[0], ok.x), select(z, b[1], ok.y), select(z, b[2], ok.z), select(z, b[3], ok.w));
}

fn origin(gid: vec3u) -> Origin {
  let b = gid.z;
  return Origin(gid.y * TM, gid.x * TN, p.offA + b * p.strideA, b * p.strideB, p.offC + b * p.strideC);
}

// Rows of the tile are stored one by one, and each row by constant indices (see the header).
fn storeVec(row: u32, n: u32, v: vec4f) {
  for (var l = 0u; l < 4u; l++) {
    if (n + l >= p.N) { return; }
    var x = p.alpha * v[l];
    if (ACCUMULATE) { x = fma(p.beta, C[row + n + l], x); }
    C[row + n + l] = x;
  }
}

fn storeRow(o: Origin, i: u32, r: mat4x4f) {
  let m = o.m0 + i;
  if (m >= p.M) { return; }
  let row = o.cBase + m * p.N;
  storeVec(row, o.n0, r[0]);
  if (TNV > 1u && o.n0 + 4u < p.N) { storeVec(row, o.n0 + 4u, r[1]); }
  if (TNV > 2u && o.n0 + 8u < p.N) { storeVec(row, o.n0 + 8u, r[2]); }
  if (TNV > 3u && o.n0 + 12u < p.N) { storeVec(row, o.n0 + 12u, r[3]); }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = origin(gid);
  if (o.n0 >= p.N || o.m0 >= p.M || gid.z >= p.batch) { return; }
  var acc: Tile;
  let K4 = p.K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
    stepBlocks(&acc, loadScalar(o, vec4u(k, k + 1u, k + 2u, k + 3u)));
  }
  if (K4 < p.K) {
    let kv = vec4u(K4, K4 + 1u, K4 + 2u, K4 + 3u);
    let ok = kv < vec4u(p.K);
    var x = loadScalar(o, min(kv, vec4u(p.K - 1u)));
    // k past K must contribute nothing: zero both sides (0·inf would be NaN).
    x.a0 = maskA(x.a0, ok); x.a1 = maskA(x.a1, ok); x.a2 = maskA(x.a2, ok); x.a3 = maskA(x.a3, ok);
    x.b0 = maskB(x.b0, ok); x.b1 = maskB(x.b1, ok); x.b2 = maskB(x.b2, ok); x.b3 = maskB(x.b3, ok);
    stepBlocks(&acc, x);
  }
  storeRow(o, 0u, acc[0]); storeRow(o, 1u, acc[1]); storeRow(o, 2u, acc[2]); storeRow(o, 3u, acc[3]);
  if (TMV > 1u) { storeRow(o, 4u, acc[4]); storeRow(o, 5u, acc[5]); storeRow(o, 6u, acc[6]); storeRow(o, 7u, acc[7]); }
  if (TMV > 2u) { storeRow(o, 8u, acc[8]); storeRow(o, 9u, acc[9]); storeRow(o, 10u, acc[10]); storeRow(o, 11u, acc[11]); }
  if (TMV > 3u) { storeRow(o, 12u, acc[12]); storeRow(o, 13u, acc[13]); storeRow(o, 14u, acc[14]); storeRow(o, 15u, acc[15]); }
}

// ---- vec4 loads and stores (main_vec4): M, N, K, strideA/B/C all multiples of 4 ----

// Offsets (in vec4s) of the four vec4s that make the A block of rows m…m+3 at k = 0; each
// k-step of 4 adds dA. Without TRANS_A they are the rows of op(A) (along k); with TRANS_A
// (A is [K,M]) they are k = 0…3, each holding rows m…m+3, and the block is transposed.
fn offA4(o: Origin, m: u32) -> vec4u {
  if (TRANS_A) {
    let c = (o.aBase + min(m, p.M - 4u)) / 4u;
    let M4 = p.M / 4u;
    return vec4u(c, c + M4, c + 2u * M4, c + 3u * M4);
  }
  let K4 = p.K / 4u;
  let c = o.aBase / 4u;
  return c + vec4u(min(m, p.M - 1u), min(m + 1u, p.M - 1u), min(m + 2u, p.M - 1u), min(m + 3u, p.M - 1u)) * K4;
}

// Likewise for the B block of columns n…n+3: rows k = 0…3 of op(B) without TRANS_B, columns
// n…n+3 (along k, transposed) with it.
fn offB4(o: Origin, n: u32) -> vec4u {
  if (TRANS_B) {
    let K4 = p.K / 4u;
    let c = o.bBase / 4u;
    return c + vec4u(min(n, p.N - 1u), min(n + 1u, p.N - 1u), min(n + 2u, p.N - 1u), min(n + 3u, p.N - 1u)) * K4;
  }
  let c = (o.bBase + min(n, p.N - 4u)) / 4u;
  let N4 = p.N / 4u;
  return vec4u(c, c + N4, c + 2u * N4, c + 3u * N4);
}

fn ldA4(off: vec4u, k: u32) -> mat4x4f {
  let x = mat4x4f(A4[off.x + k], A4[off.y + k], A4[off.z + k], A4[off.w + k]);
  if (TRANS_A) { return transpose(x); }
  return x;
}

fn ldB4(off: vec4u, k: u32) -> mat4x4f {
  let x = mat4x4f(B4[off.x + k], B4[off.y + k], B4[off.z + k], B4[off.w + k]);
  if (TRANS_B) { return transpose(x); }
  return x;
}

fn storeVec4(idx: u32, v: vec4f) {
  var x = p.alpha * v;
  if (ACCUMULATE) { x = fma(vec4f(p.beta), C4[idx], x); }
  C4[idx] = x;
}

fn storeRow4(o: Origin, i: u32, r: mat4x4f) {
  let m = o.m0 + i;
  if (m >= p.M) { return; }
  let row = (o.cBase + m * p.N + o.n0) / 4u;
  storeVec4(row, r[0]);
  if (TNV > 1u && o.n0 + 4u < p.N) { storeVec4(row + 1u, r[1]); }
  if (TNV > 2u && o.n0 + 8u < p.N) { storeVec4(row + 2u, r[2]); }
  if (TNV > 3u && o.n0 + 12u < p.N) { storeVec4(row + 3u, r[3]); }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let o = origin(gid);
  if (o.n0 >= p.N || o.m0 >= p.M || gid.z >= p.batch) { return; }
  var acc: Tile;
  let oa0 = offA4(o, o.m0);
  let oa1 = offA4(o, o.m0 + 4u);
  let oa2 = offA4(o, o.m0 + 8u);
  let oa3 = offA4(o, o.m0 + 12u);
  let ob0 = offB4(o, o.n0);
  let ob1 = offB4(o, o.n0 + 4u);
  let ob2 = offB4(o, o.n0 + 8u);
  let ob3 = offB4(o, o.n0 + 12u);
  let dA = select(1u, p.M, TRANS_A);
  let dB = select(p.N, 1u, TRANS_B);
  var kA = 0u;
  var kB = 0u;
  for (var k = 0u; k < p.K; k += 4u) {
    let a0 = ldA4(oa0, kA);
    var a1 = mat4x4f();
    var a2 = mat4x4f();
    var a3 = mat4x4f();
    if (TMV > 1u) { a1 = ldA4(oa1, kA); }
    if (TMV > 2u) { a2 = ldA4(oa2, kA); }
    if (TMV > 3u) { a3 = ldA4(oa3, kA); }
    let b0 = ldB4(ob0, kB);
    var b1 = mat4x4f();
    var b2 = mat4x4f();
    var b3 = mat4x4f();
    if (TNV > 1u) { b1 = ldB4(ob1, kB); }
    if (TNV > 2u) { b2 = ldB4(ob2, kB); }
    if (TNV > 3u) { b3 = ldB4(ob3, kB); }
    kA += dA;
    kB += dB;
    step(&acc, a0, a1, a2, a3, b0, b1, b2, b3);
  }
  storeRow4(o, 0u, acc[0]); storeRow4(o, 1u, acc[1]); storeRow4(o, 2u, acc[2]); storeRow4(o, 3u, acc[3]);
  if (TMV > 1u) { storeRow4(o, 4u, acc[4]); storeRow4(o, 5u, acc[5]); storeRow4(o, 6u, acc[6]); storeRow4(o, 7u, acc[7]); }
  if (TMV > 2u) { storeRow4(o, 8u, acc[8]); storeRow4(o, 9u, acc[9]); storeRow4(o, 10u, acc[10]); storeRow4(o, 11u, acc[11]); }
  if (TMV > 3u) { storeRow4(o, 12u, acc[12]); storeRow4(o, 13u, acc[13]); storeRow4(o, 14u, acc[14]); storeRow4(o, 15u, acc[15]); }
}
