// C[b] = alpha · op(A[b]) · op(B[b]) (+ beta · C[b] when ACCUMULATE), row-major f32.
// A: [M,K] or, with TRANS_A, [K,M]; B: [K,N] or, with TRANS_B, [N,K]; C: [M,N].
// Barrier-free register tiling: each invocation owns a TM×TN block of C, because workgroup
// barriers are very slow on SwiftShader and shared memory brings nothing on lavapipe.
// Out-of-range rows/columns are clamped for loads (no branches in the K loop) and masked on store.

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

const TM: u32 = 4u; // @specialize rows of C per invocation
const TN: u32 = 4u; // @specialize columns of C per invocation, a multiple of 4
const TNV: u32 = TN / 4u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * TN;
  let m0 = gid.y * TM;
  let b = gid.z;
  if (n0 >= p.N || m0 >= p.M || b >= p.batch) { return; }

  // Element strides of op(A) along m and k, and of op(B) along k and n.
  let sAm = select(p.K, 1u, TRANS_A);
  let sAk = select(1u, p.M, TRANS_A);
  let sBk = select(p.N, 1u, TRANS_B);
  let sBn = select(1u, p.K, TRANS_B);

  var aRow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { aRow[i] = b * p.strideA + min(m0 + i, p.M - 1u) * sAm; }
  var bCol: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { bCol[j] = b * p.strideB + min(n0 + j, p.N - 1u) * sBn; }

  var acc: array<vec4f, TM * TNV>;
  let K4 = p.K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
    var a: array<vec4f, TM>;
    for (var i = 0u; i < TM; i++) {
      let r = aRow[i] + k * sAk;
      a[i] = vec4f(A[r], A[r + sAk], A[r + 2u * sAk], A[r + 3u * sAk]);
    }
    for (var kk = 0u; kk < 4u; kk++) {
      let kb = (k + kk) * sBk;
      for (var jv = 0u; jv < TNV; jv++) {
        let j = jv * 4u;
        let bv = vec4f(B[bCol[j] + kb], B[bCol[j + 1u] + kb], B[bCol[j + 2u] + kb], B[bCol[j + 3u] + kb]);
        for (var i = 0u; i < TM; i++) {
          acc[i * TNV + jv] = fma(vec4f(a[i][kk]), bv, acc[i * TNV + jv]);
        }
      }
    }
  }
  for (var k = K4; k < p.K; k++) {
    let kb = k * sBk;
    for (var jv = 0u; jv < TNV; jv++) {
      let j = jv * 4u;
      let bv = vec4f(B[bCol[j] + kb], B[bCol[j + 1u] + kb], B[bCol[j + 2u] + kb], B[bCol[j + 3u] + kb]);
      for (var i = 0u; i < TM; i++) {
        acc[i * TNV + jv] = fma(vec4f(A[aRow[i] + k * sAk]), bv, acc[i * TNV + jv]);
      }
    }
  }

  let cBase = b * p.strideC;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      let idx = cBase + m * p.N + n;
      var v = p.alpha * acc[i * TNV + j / 4u][j % 4u];
      if (ACCUMULATE) { v = v + p.beta * C[idx]; }
      C[idx] = v;
    }
  }
}
