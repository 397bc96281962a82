// Launchers for 2-D convolution (NCHW activations, OIHW weights, f32): forward, gradient with
// respect to the input, gradient with respect to weight and bias.
//
// All three are implicit GEMMs with per-invocation register tiles (shaders/conv2d_forward.wgsl,
// shaders/conv2d_backward_weight.wgsl); no im2col matrix is materialised. Cheap O(size) passes
// (shaders/conv2d_prep.wgsl) first copy the activation into a zero-padded buffer whose rows
// are whole vec4s and repack the weights channel-fastest, so the GEMM kernels load only
// aligned vec4s and have no border branches.
//
// The input gradient of a stride-S conv is split into S² stride phases: input positions
// ih ≡ ρ − pad (mod S) only meet the taps kh ≡ ρ (mod S), so each phase is a stride-1
// correlation of dy with a flipped, decimated sub-kernel, run by the forward kernel with a
// strided store. No multiplications by inserted zeros, and positions no tap reaches (e.g. odd
// rows under a 1×1 stride-2 conv, or the last row of an odd input) get exactly zero.
//
// This file encodes the passes; conv2d_shape.ts checks shapes, conv2d_plan.ts decides tiles,
// tap groups, phases and reduction chunks from the per-adapter tables in tuning.ts.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import { grid1d } from './elementwise.js';
import { conv2dOverride, conv2dTiles, conv2dWeightGradConfig } from './tuning.js';
import { checkSize, validate, type Conv2dGradOptions, type Conv2dShape } from './conv2d_shape.js';
import { chooseTile, paddedRowVec4s, phases, planWeightGrad, reductionChannelsPerStep, tapGroups, useWeightGradGemm, type TapGroups, type Tile } from './conv2d_plan.js';
import { reduceWeightGradPartials } from './conv2d_reduce.js';
import { conv2dWeightGradGemm } from './conv2d_weight_gemm.js';

export { conv2dPads, conv2dOutputSize, conv2dFlops, type Conv2dShape, type Conv2dGradOptions } from './conv2d_shape.js';
export { conv2dPlan } from './conv2d_plan.js';
export type { Conv2dTileConfig, Conv2dWeightGradConfig } from './tuning.js';

const PREP_WG = 128;

/**
 * dst[nc][r][φ][c] = src[nc][r+offH][c·S+φ+offW] for φ < P (0 outside src): a zero-padded copy
 * with its columns split into stride phases, each phase row Wp4 vec4s long.
 */
function padInto(rt: Runtime, label: string, src: BufferLike, NC: number, H: number, W: number, Hp: number, S: number, P: number, Wp4: number, offH: number, offW: number): PooledBuffer {
  // One invocation per destination row of Wp4 vec4s.
  const total = NC * Hp * P;
  const dst = rt.allocF32(total * Wp4 * 4, `${label}.padded`);
  rt.dispatch({
    label: `${label} pad`,
    shader: 'conv2d_prep.wgsl',
    entry: 'pad',
    constants: { WG: PREP_WG },
    params: { NC, H, W, Hp, S, P, Wp4, offH, offW, total },
    bindings: { padSrc: src, padDst: dst },
    workgroups: grid1d(total, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

interface RepackSpec {
  R: number;
  KHk: number;
  KWk: number;
  S: number;
  groups: TapGroups;
  OP: number;
  O: number;
  sO: number;
  sR: number;
  KWs: number;
  bh: number;
  dh: number;
  bw: number;
  dw: number;
}

/** Weights in the forward kernel's step order [R][KHk][G·TK][OP] (see conv2d_prep.wgsl:repack). */
function repackWeights(rt: Runtime, label: string, w: BufferLike, r: RepackSpec): PooledBuffer {
  const g = r.groups;
  // One invocation per run of OP output channels.
  const total = r.R * r.KHk * g.G * (g.TK + g.TK1);
  const dst = rt.allocF32(total * r.OP, `${label}.packed_w`);
  rt.dispatch({
    label: `${label} repack weights`,
    shader: 'conv2d_prep.wgsl',
    entry: 'repack',
    constants: { WG: PREP_WG },
    params: {
      R: r.R, KHk: r.KHk, G: g.G, Gp: g.Gp, TK: g.TK, S: r.S, KWk: r.KWk, OP: r.OP,
      O: r.O, sO: r.sO, sR: r.sR, KWs: r.KWs, bh: r.bh, dh: r.dh, bw: r.bw, dw: r.dw,
      total, TK1: g.TK1,
    },
    bindings: { repSrc: w, repDst: dst },
    workgroups: grid1d(total, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

interface TileDispatch {
  label: string;
  tile: Tile;
  groups: TapGroups;
  /** Reduction channels, rows of the padded input, vec4s per phase row, stride. */
  R: number;
  Hp: number;
  Wp4: number;
  S: number;
  KH: number;
  N: number;
  O: number;
  outH: number;
  outW: number;
  Hq: number;
  Wq: number;
  soH: number;
  ooH: number;
  soW: number;
  ooW: number;
  accumulate: boolean;
}

function dispatchTile(rt: Runtime, d: TileDispatch, xp: BufferLike, wp: BufferLike, bias: BufferLike | null, out: BufferLike): void {
  const t = d.tile;
  const g = d.groups;
  // Tiles of one output-channel tile, padded to whole subgroups when they share weight loads.
  const lanesUsed = t.tilesW * t.tilesH * d.N;
  const lanes = t.SG ? Math.ceil(lanesUsed / t.SG) * t.SG : lanesUsed;
  const total = lanes * t.tilesO;
  const OV = t.tilesO * t.COTV;
  // Whole-vec4 output rows take vec4 stores.
  const vec4Out = d.soW === 1 && d.outW % 4 === 0 && d.ooW % 4 === 0 && d.Wq % 4 === 0;
  rt.dispatch({
    label: d.label,
    shader: t.SG ? 'conv2d_forward_subgroup.wgsl' : 'conv2d_forward_own.wgsl',
    entry: vec4Out ? 'main_vec4_out' : 'main',
    constants: { WG: t.WG, HAS_BIAS: bias !== null, ACCUMULATE: d.accumulate },
    defines: { COTV: t.COTV, TWV: t.TWV, THO: t.THO, TK: g.TK, TK1: g.TK1, SG: t.SG, RCH: reductionChannelsPerStep(t, g, d.KH, d.R) },
    params: {
      R: d.R, Hp: d.Hp, Wp4: d.Wp4, S: d.S, P: g.P, KH: d.KH, G: g.G, Gp: g.Gp,
      O: d.O, OV, outH: d.outH, outW: d.outW, Hq: d.Hq, Wq: d.Wq, soH: d.soH, ooH: d.ooH,
      soW: d.soW, ooW: d.ooW, tilesW: t.tilesW, N: d.N, total, tilesH: t.tilesH, rpStep: g.rpStep,
      lanes, lanesUsed,
    },
    // Without a bias the read-only packed weights stand in for the unused binding.
    bindings: { X: xp, Wt: wp, B: bias ?? wp, [vec4Out ? 'Y4' : 'Y']: out },
    workgroups: grid1d(total, t.WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/**
 * y = conv2d(x, w) + bias.
 * x: [N,Ci,H,W] f32; w: [Co,Ci,KH,KW] f32; bias: [Co] f32 or null; y: [N,Co,Ho,Wo] f32 (overwritten).
 */
export function conv2dForward(rt: Runtime, x: BufferLike, w: BufferLike, bias: BufferLike | null, y: BufferLike, s: Conv2dShape): void {
  const op = 'conv2dForward';
  const { Ho, Wo, ph, pw } = validate(op, s);
  checkSize(op, 'x', x, [s.N, s.Ci, s.H, s.W], s);
  checkSize(op, 'w', w, [s.Co, s.Ci, s.KH, s.KW], s);
  if (bias) checkSize(op, 'bias', bias, [s.Co], s);
  checkSize(op, 'y', y, [s.N, s.Co, Ho, Wo], s);
  const label = `conv2d forward ${s.Ci}->${s.Co} k${s.KH}x${s.KW} s${s.stride} @${s.H}x${s.W}`;
  const tile = chooseTile(conv2dTiles(rt.gpu.info.kind, 'forward'), s.Co, Ho, Wo, conv2dOverride('forward', op), op, rt.gpu.info.subgroupSize);
  const S = s.stride;
  const groups = tapGroups(s.KW, S, tile.mergePhases);
  // Row tiles may run past Ho; those rows read zero padding and are not stored.
  const Hp = (tile.tilesH * tile.THO - 1) * S + s.KH;
  const Wp4 = paddedRowVec4s(tile, groups);
  const xp = padInto(rt, label, x, s.N * s.Ci, s.H, s.W, Hp, S, groups.P, Wp4, -ph, -pw);
  const OP = tile.tilesO * tile.COTV * 4;
  const KK = s.KH * s.KW;
  const wp = repackWeights(rt, label, w, {
    R: s.Ci, KHk: s.KH, KWk: s.KW, S, groups, OP, O: s.Co, sO: s.Ci * KK, sR: KK, KWs: s.KW, bh: 0, dh: 1, bw: 0, dw: 1,
  });
  dispatchTile(rt, {
    label, tile, groups, R: s.Ci, Hp, Wp4, S, KH: s.KH, N: s.N, O: s.Co,
    outH: Ho, outW: Wo, Hq: Ho, Wq: Wo, soH: 1, ooH: 0, soW: 1, ooW: 0, accumulate: false,
  }, xp, wp, bias, y);
  rt.release(xp);
  rt.release(wp);
}

/**
 * dx (+)= ∂L/∂x given dy = ∂L/∂y for y = conv2d(x, w).
 * dy: [N,Co,Ho,Wo] f32; w: [Co,Ci,KH,KW] f32; dx: [N,Ci,H,W] f32.
 */
export function conv2dBackwardInput(rt: Runtime, dy: BufferLike, w: BufferLike, dx: BufferLike, s: Conv2dShape, o: Conv2dGradOptions = {}): void {
  const op = 'conv2dBackwardInput';
  const { Ho, Wo, ph, pw } = validate(op, s);
  checkSize(op, 'dy', dy, [s.N, s.Co, Ho, Wo], s);
  checkSize(op, 'w', w, [s.Co, s.Ci, s.KH, s.KW], s);
  checkSize(op, 'dx', dx, [s.N, s.Ci, s.H, s.W], s);
  const accumulate = !!o.accumulate;
  const label = `conv2d backward-input ${s.Ci}<-${s.Co} k${s.KH}x${s.KW} s${s.stride} @${s.H}x${s.W}`;
  const S = s.stride;
  const rows = phases(s.H, s.KH, S, ph);
  const cols = phases(s.W, s.KW, S, pw);
  const unreached = rows.some((r) => r.count > 0 && r.taps === 0) || cols.some((c) => c.count > 0 && c.taps === 0);
  if (unreached && !accumulate) {
    const n = s.N * s.Ci * s.H * s.W;
    rt.dispatch({
      label: `${label} zero`,
      shader: 'conv2d_prep.wgsl',
      entry: 'fill_zero',
      constants: { WG: PREP_WG },
      params: { n },
      bindings: { fillDst: dx },
      workgroups: grid1d(n, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  const cfg = conv2dTiles(rt.gpu.info.kind, 'inputGrad');
  const force = conv2dOverride('inputGrad', op);
  const padded = new Map<string, PooledBuffer>();
  const temps: PooledBuffer[] = [];
  const KK = s.KH * s.KW;
  for (const r of rows) {
    for (const c of cols) {
      if (r.taps === 0 || c.taps === 0 || r.count === 0 || c.count === 0) continue;
      const tile = chooseTile(cfg, s.Ci, r.count, c.count, force, op, rt.gpu.info.subgroupSize);
      // Phase position q reads dy rows q + q0 − (taps − 1) … q + q0 (zero outside dy).
      const offH = r.q0 - (r.taps - 1);
      const offW = c.q0 - (c.taps - 1);
      const groups = tapGroups(c.taps, 1, false);
      const Hp = tile.tilesH * tile.THO - 1 + r.taps;
      const Wp4 = paddedRowVec4s(tile, groups);
      const key = `${offH},${offW},${Hp},${Wp4}`;
      let dyp = padded.get(key);
      if (!dyp) {
        dyp = padInto(rt, label, dy, s.N * s.Co, Ho, Wo, Hp, 1, 1, Wp4, offH, offW);
        padded.set(key, dyp);
        temps.push(dyp);
      }
      const OP = tile.tilesO * tile.COTV * 4;
      // Packed [co][u][v][ci] = w[co][ci][rho + S·(taps−1−u)][…]: transposed and flipped.
      const wp = repackWeights(rt, label, w, {
        R: s.Co, KHk: r.taps, KWk: c.taps, S: 1, groups, OP, O: s.Ci, sO: KK, sR: s.Ci * KK, KWs: s.KW,
        bh: r.rho + S * (r.taps - 1), dh: -S, bw: c.rho + S * (c.taps - 1), dw: -S,
      });
      temps.push(wp);
      dispatchTile(rt, {
        label: S > 1 ? `${label} phase ${r.rho},${c.rho}` : label,
        tile, groups, R: s.Co, Hp, Wp4, S: 1, KH: r.taps, N: s.N, O: s.Ci,
        outH: s.H, outW: s.W, Hq: r.count, Wq: c.count,
        soH: S, ooH: S * r.q0 + r.rho - ph, soW: S, ooW: S * c.q0 + c.rho - pw, accumulate,
      }, dyp, wp, null, dx);
    }
  }
  for (const t of temps) rt.release(t);
}

/**
 * dw (+)= ∂L/∂w and db (+)= ∂L/∂bias given dy = ∂L/∂y for y = conv2d(x, w) + bias.
 * x: [N,Ci,H,W] f32; dy: [N,Co,Ho,Wo] f32; dw: [Co,Ci,KH,KW] f32; db: [Co] f32 or null.
 *
 * Each weight sums N·Ho·Wo terms. Rows (n, oh) are split into chunks; within a chunk each of
 * 4 f32 lanes sums at most `laneTerms` (2048 on software GPUs) terms, the lanes are added
 * pairwise, and a second pass adds the chunks four-way interleaved. With m = laneTerms + 2 +
 * ⌈chunks/4⌉ + 2 the rounding error is at most m·2⁻²⁴·Σ|dy·x| (≈1.2e-4·Σ|terms| worst case,
 * ~√m·2⁻²⁴ typically), instead of N·Ho·Wo·2⁻²⁴ for one sequential sum (0.05·Σ|terms| for
 * 800k terms). The bound holds unless `maxPartialFloats` caps the chunk count, which no
 * ResNet18 shape at batch ≤ 64 does.
 */
export function conv2dBackwardWeight(rt: Runtime, x: BufferLike, dy: BufferLike, dw: BufferLike, db: BufferLike | null, s: Conv2dShape, o: Conv2dGradOptions = {}): void {
  const op = 'conv2dBackwardWeight';
  const { Ho, Wo, ph, pw } = validate(op, s);
  checkSize(op, 'x', x, [s.N, s.Ci, s.H, s.W], s);
  checkSize(op, 'dy', dy, [s.N, s.Co, Ho, Wo], s);
  checkSize(op, 'dw', dw, [s.Co, s.Ci, s.KH, s.KW], s);
  if (db) checkSize(op, 'db', db, [s.Co], s);
  const label = `conv2d backward-weight ${s.Ci}->${s.Co} k${s.KH}x${s.KW} s${s.stride} @${s.H}x${s.W}`;
  const cfg = conv2dWeightGradConfig(rt.gpu.info.kind);
  const force = conv2dOverride('weightGrad', op);
  if (useWeightGradGemm(cfg, force, s)) {
    conv2dWeightGradGemm(rt, x, dy, dw, db, s, { Ho, Wo, ph, pw }, cfg, force, label, !!o.accumulate);
    return;
  }
  const S = s.stride;
  const nW = s.Co * s.Ci * s.KH * s.KW;
  const nB = db ? s.Co : 0;
  const plan = planWeightGrad(cfg, s, Ho, Wo, nW + nB, force, rt.gpu.info.subgroupSize);
  // Rows are padded to WdvU dy vec4s (whole groups of U); the padding is zero and adds nothing.
  const Wdv = plan.WdvU;
  const Hp = (Ho - 1) * S + s.KH;
  const Wp4 = plan.Wp4;
  const P = Math.min(S, s.KW);
  const temps: PooledBuffer[] = [];
  const xp = padInto(rt, label, x, s.N * s.Ci, s.H, s.W, Hp, S, P, Wp4, -ph, -pw);
  temps.push(xp);
  let dyv: BufferLike = dy;
  if (Wdv * 4 !== Wo) {
    // Whole vec4s per row, zero beyond Wo, so padded columns add nothing.
    const dyp = padInto(rt, label, dy, s.N * s.Co, Ho, Wo, Ho, 1, 1, Wdv, 0, 0);
    temps.push(dyp);
    dyv = dyp;
  }
  const stride = nW + nB;
  // One chunk and no bias: the kernel writes dw itself and no reduce pass runs.
  const intoDw = plan.chunks === 1 && db === null;
  const part = intoDw ? null : rt.allocF32(plan.chunks * stride, `${label}.partials`);
  if (part) temps.push(part);
  const phaseTaps = Array.from({ length: P }, (_, ph) => Math.ceil((s.KW - ph) / S));
  // Stride 2 with at most 4 taps in all (3×3: 2 + 1) runs both phases in one dispatch.
  const merged = P === 2 && phaseTaps[0]! + phaseTaps[1]! <= 4;
  for (let phase = 0; phase < (merged ? 1 : P); phase++) {
    const taps = phaseTaps[phase]!;
    const taps1 = merged ? phaseTaps[1]! : 0;
    // Taps go in groups of TK starting at multiples of 4 (the shader's window shifts are 0…3).
    const TK = Math.min(4, taps);
    const groups = Math.ceil(taps / TK);
    // Lanes of one (output-channel tile, chunk), padded to whole subgroups when they share dy.
    const lanesUsed = plan.tilesCi * s.KH * groups;
    const lanes = plan.SG ? Math.ceil(lanesUsed / plan.SG) * plan.SG : lanesUsed;
    const total = lanes * plan.tilesCo * plan.chunks;
    const withBias = db !== null && phase === 0;
    rt.dispatch({
      label: S > 1 && !merged ? `${label} phase ${phase}` : label,
      shader: plan.SG ? 'conv2d_backward_weight_subgroup.wgsl' : 'conv2d_backward_weight_own.wgsl',
      constants: { WG: plan.WG, HAS_BIAS: withBias, ACCUMULATE: intoDw && !!o.accumulate },
      defines: { COT: plan.COT, CIT: plan.CIT, TK, TK1: taps1, SG: plan.SG, U: plan.U, FLAT: plan.flat, UROWS: plan.rowUnits },
      params: {
        Ci: s.Ci, Co: s.Co, Ho, rows: s.N * Ho, rowsPerChunk: plan.rowsPerChunk, Wdv, Hp, Wp4,
        S, KH: s.KH, KW: s.KW, ph: phase, taps, groups, tilesCi: plan.tilesCi, tilesCo: plan.tilesCo,
        total, stride, nW, P, taps1, lanes, lanesUsed,
      },
      bindings: { X: xp, DY: dyv, part: part ?? dw },
      workgroups: grid1d(total, plan.WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  if (part) reduceWeightGradPartials(rt, label, part, dw, db, { nW, nB, chunks: plan.chunks, stride, cols: nW, rowLen: nW, bias0: nW, biasStep: 1 }, !!o.accumulate);
  for (const t of temps) rt.release(t);
}
