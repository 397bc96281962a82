// conv2d weight and bias gradients, as chunked partial sums (implicit GEMM, no im2col):
//   part[c, ((o·Ci + i)·KH + kh)·KW + kw] = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow] · Xp[n,i,oh·S + kh, ow·S + kw]
//   part[c, nW + o]                       = Σ_{(n,oh) ∈ chunk c} Σ_ow dY[n,o,oh,ow]          (HAS_BIAS)
// conv2d_prep.wgsl:reduce then sums the chunks into dw [Co,Ci,KH,KW] and db [Co].
// Xp: [N,Ci,Hp,Wp4·4] f32 as vec4, zero-padded by conv2d_prep.wgsl:pad (offset −pad).
// dY: [N,Co,Ho,Wdv·4] f32 as vec4, rows zero-padded to whole blocks of 4·TWV columns.
//
// A weight sees N·Ho·Wo terms (800k for a 64-channel 3×3 conv at 112², batch 64), so one
// sequential f32 sum per weight would lose ~log2(800k) bits; the rows (n,oh) are split into
// chunks and each invocation keeps vec4 accumulators over 4 interleaved ow lanes, so a lane
// sums rowsPerChunk·Wdv terms, then 4 lanes, then the reduce pass sums the chunks.
// Each invocation owns COT output channels × CIT input channels × all KH·KW taps: a dy vec4
// feeds CIT·KH·KW FMAs and an input row segment feeds COT·KW·TWV.

struct Params {
  Ci: u32, Co: u32, Ho: u32, rows: u32,
  rowsPerChunk: u32, Wdv: u32, nBlocks: u32, Hp: u32,
  Wp4: u32, tilesCi: u32, tilesCo: u32, total: u32,
  stride: u32, nW: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> DY: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

const COT: u32 = 4u; // @specialize output channels per invocation
const CIT: u32 = 2u; // @specialize input channels per invocation
const TWV: u32 = 2u; // @specialize output columns per block, in vec4s
const KH: u32 = 3u; // @specialize kernel rows
const KW: u32 = 3u; // @specialize kernel columns
const S: u32 = 1u; // @specialize stride
const TAPS: u32 = KH * KW;
const SEGV: u32 = ((4u * TWV - 1u) * S + KW + 3u) / 4u;

fn segAt(seg: ptr<function, array<vec4f, SEGV>>, c: u32) -> f32 {
  return (*seg)[c / 4u][c % 4u];
}

fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.total) { return; }
  let cit = id % p.tilesCi;
  let q = id / p.tilesCi;
  let cot = q % p.tilesCo;
  let chunk = q / p.tilesCo;

  // Channels past Ci/Co are clamped for loads (no branches in the loop) and masked on store.
  var oc: array<u32, COT>;
  for (var co = 0u; co < COT; co++) { oc[co] = min(cot * COT + co, p.Co - 1u); }
  var ic: array<u32, CIT>;
  for (var ci = 0u; ci < CIT; ci++) { ic[ci] = min(cit * CIT + ci, p.Ci - 1u); }

  var acc: array<vec4f, COT * CIT * TAPS>;
  var accB: array<vec4f, COT>;
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.rows);
  for (var row = r0; row < r1; row++) {
    let n = row / p.Ho;
    let oh = row % p.Ho;
    for (var b = 0u; b < p.nBlocks; b++) {
      var d: array<vec4f, COT * TWV>;
      for (var co = 0u; co < COT; co++) {
        let db = ((n * p.Co + oc[co]) * p.Ho + oh) * p.Wdv + b * TWV;
        for (var jv = 0u; jv < TWV; jv++) { d[co * TWV + jv] = DY[db + jv]; }
      }
      if (HAS_BIAS) {
        for (var co = 0u; co < COT; co++) {
          for (var jv = 0u; jv < TWV; jv++) { accB[co] += d[co * TWV + jv]; }
        }
      }
      for (var ci = 0u; ci < CIT; ci++) {
        for (var kh = 0u; kh < KH; kh++) {
          var seg: array<vec4f, SEGV>;
          let sb = ((n * p.Ci + ic[ci]) * p.Hp + oh * S + kh) * p.Wp4 + b * TWV * S;
          for (var i = 0u; i < SEGV; i++) { seg[i] = X[sb + i]; }
          for (var kw = 0u; kw < KW; kw++) {
            for (var jv = 0u; jv < TWV; jv++) {
              let c0 = jv * 4u * S + kw;
              let xv = vec4f(segAt(&seg, c0), segAt(&seg, c0 + S), segAt(&seg, c0 + 2u * S), segAt(&seg, c0 + 3u * S));
              for (var co = 0u; co < COT; co++) {
                let a = (co * CIT + ci) * TAPS + kh * KW + kw;
                acc[a] = fma(d[co * TWV + jv], xv, acc[a]);
              }
            }
          }
        }
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
      let wb = (o * p.Ci + i) * TAPS;
      for (var t = 0u; t < TAPS; t++) { part[pb + wb + t] = hsum(acc[(co * CIT + ci) * TAPS + t]); }
    }
    if (HAS_BIAS && cit == 0u) { part[pb + p.nW + o] = hsum(accB[co]); }
  }
}
