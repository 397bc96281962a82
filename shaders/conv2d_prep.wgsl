// Cheap O(size) passes around the conv2d GEMM kernels (see src/kernels/conv2d.ts):
//   pad      — copies an NCHW tensor into a zero-padded, shifted copy whose rows are whole vec4s
//              (columns split into stride phases), so the GEMM kernels load only aligned vec4s
//              and never branch on borders;
//   repack   — reorders OIHW weights into [r][kh][kw][o] (o fastest, zero-padded to the
//              channel tile) so a tile's output channels are one or two vec4 loads, optionally
//              transposed, flipped and decimated for the stride phases of the input gradient;
//   fill     — zeroes a buffer (input-gradient positions no stride phase reaches);
//   reduce   — sums the weight-gradient partials of all reduction chunks.
// Each entry has its own Params struct; an entry point only uses its own, so they may share
// @binding(0). A 2-D grid covers more than 65535 workgroups: i = gid.x + gid.y·nwg.x·WG.

override WG: u32 = 128u;

#include "flat_id.wgsl"

// ---- pad: dst[nc][r][φ][c] = src[nc][r + offH][c·S + φ + offW] (φ < P), 0 outside src ------
// src: [NC,H,W] f32; dst: [NC,Hp,P,Wp4·4] f32 as vec4. Splitting columns into stride phases
// makes every tap of a stride-S conv read contiguous, vec4-aligned columns
// (conv2d_forward.wgsl); phases no tap reads (P < S, e.g. 1×1 stride 2) are not stored.
struct PadParams {
  NC: u32, H: u32, W: u32, Hp: u32,
  S: u32, P: u32, Wp4: u32, offH: i32,
  offW: i32, total: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> pp: PadParams;
@group(0) @binding(1) var<storage, read> padSrc: array<f32>;
@group(0) @binding(2) var<storage, read_write> padDst: array<vec4f>;

// One invocation per destination row (nc, r, φ): its Wp4 vec4s in a loop, so the index
// arithmetic (divisions are a per-lane loop on the software drivers) runs once per row.
@compute @workgroup_size(WG)
fn pad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= pp.total) { return; }
  let ph = i % pp.P;
  let q = i / pp.P;
  let r = q % pp.Hp;
  let nc = q / pp.Hp;
  let ih = i32(r) + pp.offH;
  let rowIn = ih >= 0 && ih < i32(pp.H);
  let rowBase = (nc * pp.H + u32(max(ih, 0))) * pp.W;
  let dst = i * pp.Wp4;
  // Source column of element e of vec4 c: c·4S + e·S + φ + offW.
  var iw = vec4i(0, 1, 2, 3) * i32(pp.S) + i32(ph) + pp.offW;
  let colStep = 4 * i32(pp.S);
  for (var c = 0u; c < pp.Wp4; c++) {
    var v = vec4f(0.0);
    if (rowIn) {
      let ok = (iw >= vec4i(0)) & (iw < vec4i(i32(pp.W)));
      let at = vec4u(max(iw, vec4i(0))) + rowBase;
      if (ok.x) { v.x = padSrc[at.x]; }
      if (ok.y) { v.y = padSrc[at.y]; }
      if (ok.z) { v.z = padSrc[at.z]; }
      if (ok.w) { v.w = padSrc[at.w]; }
    }
    padDst[dst + c] = v;
    iw += vec4i(colStep);
  }
}

// ---- repack: dst[r][u][ph·Gp + g][k][o] = src[o·sO + r·sR + (bh + dh·u)·KWs + (bw + dw·(a·S + ph))]
// with tap a = g·TK + k of phase ph, zero when a ≥ ⌈(KWk − ph)/S⌉ (past the kernel) or o ≥ O.
// With TK1 > 0 (phases merged, G = 1): k < TK is tap k of phase 0, then tap k − TK of phase 1.
// src: OIHW weights [Co,Ci,KH,KWs]; dst: [R,KHk,G·NT,OP] — the step order of conv2d_forward.wgsl.
struct RepackParams {
  R: u32, KHk: u32, G: u32, Gp: u32,
  TK: u32, S: u32, KWk: u32, OP: u32,
  O: u32, sO: u32, sR: u32, KWs: u32,
  bh: i32, dh: i32, bw: i32, dw: i32,
  total: u32, TK1: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> rp: RepackParams;
@group(0) @binding(1) var<storage, read> repSrc: array<f32>;
@group(0) @binding(2) var<storage, read_write> repDst: array<f32>;

// One invocation per (r, u, group slot): its OP output channels, a contiguous run of dst, in a
// loop (the index arithmetic once per run: a division is a per-lane loop on the software drivers).
@compute @workgroup_size(WG)
fn repack(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= rp.total) { return; }
  let nt = rp.TK + rp.TK1;
  let k = i % nt;
  var q = i / nt;
  let gi = q % rp.G;
  q /= rp.G;
  let u = q % rp.KHk;
  let r = q / rp.KHk;
  let second = rp.TK1 > 0u && k >= rp.TK;
  let ph = select(gi / rp.Gp, 1u, second);
  let a = select((gi % rp.Gp) * rp.TK + k, k - rp.TK, second);
  let taps = (rp.KWk + rp.S - 1u - ph) / rp.S;
  let kh = u32(rp.bh + rp.dh * i32(u));
  let kw = u32(rp.bw + rp.dw * i32(a * rp.S + ph));
  // Past the kernel the source index is meaningless; those slots read nothing.
  let tap = a < taps;
  let src = select(0u, r * rp.sR + kh * rp.KWs + kw, tap);
  let dst = i * rp.OP;
  for (var o = 0u; o < rp.OP; o++) {
    var val = 0.0;
    if (tap && o < rp.O) { val = repSrc[o * rp.sO + src]; }
    repDst[dst + o] = val;
  }
}

// ---- fill: dst[i] = 0 ------------------------------------------------------------------
struct FillParams { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> fp: FillParams;
@group(0) @binding(1) var<storage, read_write> fillDst: array<f32>;

@compute @workgroup_size(WG)
fn fill_zero(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= fp.n) { return; }
  fillDst[i] = 0.0;
}

// ---- reduce: dw[i] (+)= Σ_c part[c·stride + at(i)]; db[j] (+)= Σ_c part[c·stride + bias0 + j·biasStep]
// part: [chunks, stride] f32. Weight i = o·cols + k sits at (i / cols)·rowLen + k: the direct
// kernel (conv2d_backward_weight.wgsl) writes one row (cols = rowLen = nW) with the bias sums
// after it (bias0 = nW, biasStep = 1); the GEMM (conv2d_weight_gemm.wgsl) writes [Co, rowLen]
// rows with the bias sum in column cols (bias0 = cols, biasStep = rowLen).
struct ReduceParams {
  nW: u32, nB: u32, chunks: u32, stride: u32,
  cols: u32, rowLen: u32, bias0: u32, biasStep: u32,
}
@group(0) @binding(0) var<uniform> dp: ReduceParams;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> redW: array<f32>;
@group(0) @binding(3) var<storage, read_write> redB: array<f32>;

override ACCUMULATE: bool = false;

@compute @workgroup_size(WG)
fn reduce(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= dp.nW + dp.nB) { return; }
  // Rows as long as the weights' (the direct kernel's layout, or a GEMM without bias or column
  // padding) need no division, which is a per-lane loop on the software drivers.
  var at = i;
  if (dp.cols != dp.rowLen) {
    at = select(dp.bias0 + (i - dp.nW) * dp.biasStep, (i / dp.cols) * dp.rowLen + i % dp.cols, i < dp.nW);
  }
  // Four interleaved partial sums: shorter dependency chains, and the error grows with
  // chunks/4 instead of chunks.
  var s = vec4f(0.0);
  var c = 0u;
  for (; c + 4u <= dp.chunks; c += 4u) {
    s += vec4f(part[c * dp.stride + at], part[(c + 1u) * dp.stride + at],
               part[(c + 2u) * dp.stride + at], part[(c + 3u) * dp.stride + at]);
  }
  for (; c < dp.chunks; c++) { s.x += part[c * dp.stride + at]; }
  let total = (s.x + s.y) + (s.z + s.w);
  if (i < dp.nW) {
    if (ACCUMULATE) { redW[i] += total; } else { redW[i] = total; }
  } else {
    let j = i - dp.nW;
    if (ACCUMULATE) { redB[j] += total; } else { redB[j] = total; }
  }
}
