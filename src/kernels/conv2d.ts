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
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { PooledBuffer } from './buffer_pool.js';
import type { AdapterKind } from './icd.js';
import { grid1d } from './elementwise.js';

/** x: [N,Ci,H,W], w: [Co,Ci,KH,KW], y: [N,Co,Ho,Wo]. `pad` is symmetric: one value or [padH, padW]. */
export interface Conv2dShape {
  N: number;
  Ci: number;
  H: number;
  W: number;
  Co: number;
  KH: number;
  KW: number;
  stride: number;
  pad: number | readonly [number, number];
}

export interface Conv2dGradOptions {
  /** Add into the gradient buffer(s) instead of overwriting them (residual branches sum gradients). */
  accumulate?: boolean;
}

/** Tiles of shaders/conv2d_forward.wgsl (forward and input-gradient phases). */
export interface Conv2dTileConfig {
  /** Output channels per invocation / 4 (1–4); grows up to maxCOTV while the tile budget allows. */
  COTV: number;
  maxCOTV: number;
  /** Most output columns per invocation / 4 (1–4); tiles are balanced so little is wasted. */
  maxTWV: number;
  /** Most output rows per invocation (TWV·THO ≤ 4): narrow images fill the tile with rows. */
  maxTHO: number;
  /** Most 4×4 accumulator blocks per invocation (COTV·TWV·THO ≤ 16). */
  maxBlocks: number;
  /** Stride 2 with ≤ 4 taps per kernel row: both column phases in one step (see tapGroups). */
  mergePhases: boolean;
  WG: number;
}

/** Tiles and reduction chunking of shaders/conv2d_backward_weight.wgsl. */
export interface Conv2dWeightGradConfig {
  /** Output and input channels per invocation (1–4 each). */
  COT: number;
  CIT: number;
  WG: number;
  /** Most terms one f32 accumulator lane sums before its partial goes to the reduce pass. */
  laneTerms: number;
  /** Chunks are added until the invocation count reaches this, to keep every core busy. */
  minThreads: number;
  /** Cap on the partial-sum buffer, in floats. */
  maxPartialFloats: number;
}

// Software GPUs want big register tiles (each storage load is a per-lane loop on lavapipe; see
// docs/DESIGN.md, "Software GPUs"); a real GPU wants many small threads (untested here: no GPU
// on these machines).
// Software values from A/B runs measured in CPU seconds (the machine is shared): forward
// 8×16 (COTV=2, TWV=4) was at least as fast as 16×16, 16×8 and 8×8 on both drivers; weight
// gradient 4×2 beat 4×4 on lavapipe by 10–40% on 3×3 shapes, a tie on SwiftShader. Merging
// the two column phases of a 3×3 stride-2 forward step: SwiftShader +40–60%, lavapipe −30–45%.
// WGML_CONV_FWD / WGML_CONV_DX / WGML_CONV_DW override them, e.g. "COTV=2,TWV=4" or "COT=4,CIT=2".
const FORWARD_TILES: Record<AdapterKind, Conv2dTileConfig> = {
  lavapipe: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: false, WG: 64 },
  swiftshader: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: true, WG: 64 },
  gpu: { COTV: 1, maxCOTV: 1, maxTWV: 1, maxTHO: 1, maxBlocks: 1, mergePhases: true, WG: 64 },
};

const INPUT_GRAD_TILES: Record<AdapterKind, Conv2dTileConfig> = {
  lavapipe: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: false, WG: 64 },
  swiftshader: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: true, WG: 64 },
  gpu: { COTV: 1, maxCOTV: 1, maxTWV: 1, maxTHO: 1, maxBlocks: 1, mergePhases: true, WG: 64 },
};

const WEIGHT_GRAD: Record<AdapterKind, Conv2dWeightGradConfig> = {
  lavapipe: { COT: 4, CIT: 2, WG: 64, laneTerms: 2048, minThreads: 1024, maxPartialFloats: 16 << 20 },
  swiftshader: { COT: 4, CIT: 4, WG: 64, laneTerms: 2048, minThreads: 1024, maxPartialFloats: 16 << 20 },
  gpu: { COT: 2, CIT: 2, WG: 64, laneTerms: 1024, minThreads: 65536, maxPartialFloats: 32 << 20 },
};

export function conv2dPads(s: Conv2dShape): [number, number] {
  return typeof s.pad === 'number' ? [s.pad, s.pad] : [s.pad[0], s.pad[1]];
}

/** Output size: Ho = floor((H + 2·padH − KH)/stride) + 1, likewise Wo. */
export function conv2dOutputSize(s: Conv2dShape): { Ho: number; Wo: number } {
  const [ph, pw] = conv2dPads(s);
  return {
    Ho: Math.floor((s.H + 2 * ph - s.KH) / s.stride) + 1,
    Wo: Math.floor((s.W + 2 * pw - s.KW) / s.stride) + 1,
  };
}

/** Multiply-adds ×2 of one forward pass (the backward passes cost the same each). */
export function conv2dFlops(s: Conv2dShape): number {
  const { Ho, Wo } = conv2dOutputSize(s);
  return 2 * s.N * s.Co * Ho * Wo * s.Ci * s.KH * s.KW;
}

function describe(s: Conv2dShape): string {
  const [ph, pw] = conv2dPads(s);
  return `N=${s.N} Ci=${s.Ci} H=${s.H} W=${s.W} Co=${s.Co} K=${s.KH}x${s.KW} stride=${s.stride} pad=${ph === pw ? ph : `${ph},${pw}`}`;
}

function validate(op: string, s: Conv2dShape): { Ho: number; Wo: number; ph: number; pw: number } {
  for (const k of ['N', 'Ci', 'H', 'W', 'Co', 'KH', 'KW', 'stride'] as const) {
    const v = s[k];
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${k} must be a positive integer, got ${v} (${describe(s)})`);
  }
  const [ph, pw] = conv2dPads(s);
  for (const [k, v] of [['padH', ph], ['padW', pw]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${op}: ${k} must be a non-negative integer, got ${v}`);
  }
  const { Ho, Wo } = conv2dOutputSize(s);
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`${op}: kernel ${s.KH}x${s.KW} does not fit the padded ${s.H + 2 * ph}x${s.W + 2 * pw} input (${describe(s)})`);
  }
  return { Ho, Wo, ph, pw };
}

function floatsIn(b: BufferLike): number {
  return Math.floor(('bytes' in b ? b.bytes : b.size) / 4);
}

function checkSize(op: string, name: string, b: BufferLike, dims: number[], s: Conv2dShape): void {
  const need = dims.reduce((a, d) => a * d, 1);
  const have = floatsIn(b);
  if (have < need) {
    throw new RangeError(`${op}: ${name} holds ${have} floats but [${dims.join(',')}] needs ${need} (${describe(s)})`);
  }
}

function parseOverride(spec: string | undefined, what: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const m = /^\s*(\w+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`${what}: cannot parse '${part}' (expected e.g. COT=8,TWV=4)`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** Splits `n` into ⌈n/max⌉ near-equal parts of at most `max`; returns the part size. */
function balanced(n: number, max: number): number {
  return Math.ceil(n / Math.ceil(n / Math.max(1, max)));
}

interface Tile {
  COTV: number;
  TWV: number;
  THO: number;
  mergePhases: boolean;
  WG: number;
  tilesW: number;
  tilesH: number;
  tilesO: number;
}

/** Tile of the forward kernel for an O×Hq×Wq output. */
function chooseTile(cfg: Conv2dTileConfig, O: number, Hq: number, Wq: number, env: string | undefined, what: string): Tile {
  const force = parseOverride(env, what);
  const Wv = Math.ceil(Wq / 4);
  const TWV = force.TWV ?? balanced(Wv, cfg.maxTWV);
  // Rows fill the 4 column slots that a narrow image leaves free (balanced over Hq).
  const THO = force.THO ?? balanced(Hq, Math.max(1, Math.min(cfg.maxTHO, Math.floor(4 / TWV))));
  const Ov = Math.ceil(O / 4);
  let COTV = Math.min(cfg.COTV, Ov);
  // Spend the rest of the accumulator budget on more output channels, so each loaded input
  // window feeds more FMAs.
  while (COTV < cfg.maxCOTV && COTV < Ov && (COTV + 1) * TWV * THO <= cfg.maxBlocks) COTV++;
  COTV = force.COTV ?? COTV;
  if (!(COTV >= 1 && COTV <= 4 && TWV >= 1 && TWV <= 4 && THO >= 1 && TWV * THO <= 4)) {
    throw new Error(`${what}: tile COTV=${COTV} TWV=${TWV} THO=${THO} outside COTV, TWV 1–4 and TWV·THO ≤ 4`);
  }
  return {
    COTV, TWV, THO, mergePhases: force.MERGE === undefined ? cfg.mergePhases : force.MERGE !== 0, WG: force.WG ?? cfg.WG,
    tilesW: Math.ceil(Wv / TWV), tilesH: Math.ceil(Hq / THO), tilesO: Math.ceil(O / (4 * COTV)),
  };
}

function i32Params(values: number[], label: string): Int32Array {
  const len = roundUp(values.length, 4);
  const a = new Int32Array(len);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v > 0xffffffff || v < -0x80000000) throw new RangeError(`${label}: parameter ${i} = ${v} out of 32-bit range`);
    a[i] = v | 0;
  });
  return a;
}

const PREP_WG = 128;

/**
 * dst[nc][r][φ][c] = src[nc][r+offH][c·S+φ+offW] for φ < P (0 outside src): a zero-padded copy
 * with its columns split into stride phases, each phase row Wp4 vec4s long.
 */
function padInto(rt: Runtime, label: string, src: BufferLike, NC: number, H: number, W: number, Hp: number, S: number, P: number, Wp4: number, offH: number, offW: number): PooledBuffer {
  const total = NC * Hp * P * Wp4;
  const dst = rt.allocF32(total * 4, `${label}.padded`);
  rt.dispatch({
    label: `${label} pad`,
    shader: 'conv2d_prep.wgsl',
    entry: 'pad',
    constants: { WG: PREP_WG },
    params: i32Params([NC, H, W, Hp, S, P, Wp4, offH, offW, total], label),
    bindings: [src, dst],
    workgroups: grid1d(total, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
  return dst;
}

/**
 * How the forward kernel walks the taps of a kernel row: P stored column phases, groups of TK
 * taps (Gp per phase, G groups iterated per row). TK = the taps of phase 0 (at most 4). Stride 2
 * with at most 4 taps in all (3×3: 2 + 1) does both phases in one step (TK1 = phase 1's taps),
 * so no zero-weight taps are computed; otherwise a phase with fewer taps pads with zero weights.
 */
interface TapGroups {
  P: number;
  TK: number;
  TK1: number;
  Gp: number;
  G: number;
  /** Phase-row counter step per group: 1, or P when one step covers both phases. */
  rpStep: number;
}

function tapGroups(KW: number, S: number, mergePhases: boolean): TapGroups {
  const P = Math.min(S, KW);
  const taps0 = Math.ceil(KW / S);
  const taps1 = P > 1 ? Math.ceil((KW - 1) / S) : 0;
  if (mergePhases && P === 2 && taps0 + taps1 <= 4) return { P, TK: taps0, TK1: taps1, Gp: 1, G: 1, rpStep: 2 };
  const TK = Math.min(4, taps0);
  const Gp = Math.ceil(taps0 / TK);
  return { P, TK, TK1: 0, Gp, G: P * Gp, rpStep: 1 };
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
  const total = r.R * r.KHk * g.G * (g.TK + g.TK1) * r.OP;
  const dst = rt.allocF32(total, `${label}.packed_w`);
  rt.dispatch({
    label: `${label} repack weights`,
    shader: 'conv2d_prep.wgsl',
    entry: 'repack',
    constants: { WG: PREP_WG },
    params: i32Params([
      r.R, r.KHk, g.G, g.Gp, g.TK, r.S, r.KWk, r.OP,
      r.O, r.sO, r.sR, r.KWs, r.bh, r.dh, r.bw, r.dw,
      total, g.TK1,
    ], label),
    bindings: [w, dst],
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
  const total = t.tilesW * t.tilesH * d.N * t.tilesO;
  const OV = t.tilesO * t.COTV;
  // Whole-vec4 output rows take vec4 stores.
  const vec4Out = d.soW === 1 && d.outW % 4 === 0 && d.ooW % 4 === 0 && d.Wq % 4 === 0;
  rt.dispatch({
    label: d.label,
    shader: 'conv2d_forward.wgsl',
    entry: vec4Out ? 'main_vec4_out' : 'main',
    constants: { WG: t.WG, HAS_BIAS: bias !== null, ACCUMULATE: d.accumulate },
    defines: { COTV: t.COTV, TWV: t.TWV, THO: t.THO, TK: g.TK, TK1: g.TK1 },
    params: i32Params([
      d.R, d.Hp, d.Wp4, d.S, g.P, d.KH, g.G, g.Gp,
      d.O, OV, d.outH, d.outW, d.Hq, d.Wq, d.soH, d.ooH,
      d.soW, d.ooW, t.tilesW, d.N, total, t.tilesH, g.rpStep,
    ], d.label),
    // Without a bias the read-only packed weights stand in for the unused binding.
    bindings: [xp, wp, bias ?? wp, out],
    workgroups: grid1d(total, t.WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** vec4s per padded phase row: the last column tile reads TWV+1 vec4s from vec4 Gp−1 on. */
function paddedRowVec4s(tile: Tile, g: TapGroups): number {
  return tile.tilesW * tile.TWV + g.Gp;
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
  const cfg = FORWARD_TILES[rt.gpu.info.kind];
  const tile = chooseTile(cfg, s.Co, Ho, Wo, process.env.WGML_CONV_FWD, op);
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

/** One stride phase of the input gradient along one axis. */
interface Phase {
  rho: number;
  /** Taps of this phase: kh = rho + S·t, t < taps. */
  taps: number;
  /** First phase index q whose input position S·q + rho − pad is ≥ 0. */
  q0: number;
  /** Number of input positions in this phase. */
  count: number;
}

function phases(size: number, K: number, S: number, pad: number): Phase[] {
  const out: Phase[] = [];
  for (let rho = 0; rho < S; rho++) {
    const taps = Math.ceil((K - rho) / S);
    const q0 = Math.max(0, Math.ceil((pad - rho) / S));
    const count = Math.floor((size - 1 + pad - rho) / S) - q0 + 1;
    out.push({ rho, taps: Math.max(0, taps), q0, count: Math.max(0, count) });
  }
  return out;
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
      params: i32Params([n], label),
      bindings: [dx],
      workgroups: grid1d(n, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  const cfg = INPUT_GRAD_TILES[rt.gpu.info.kind];
  const padded = new Map<string, PooledBuffer>();
  const temps: PooledBuffer[] = [];
  const KK = s.KH * s.KW;
  for (const r of rows) {
    for (const c of cols) {
      if (r.taps === 0 || c.taps === 0 || r.count === 0 || c.count === 0) continue;
      const tile = chooseTile(cfg, s.Ci, r.count, c.count, process.env.WGML_CONV_DX, op);
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

interface WeightGradPlan {
  COT: number;
  CIT: number;
  WG: number;
  /** dy vec4s per row. */
  Wdv: number;
  rowsPerChunk: number;
  chunks: number;
  tilesCo: number;
  tilesCi: number;
}

function planWeightGrad(cfg: Conv2dWeightGradConfig, s: Conv2dShape, Ho: number, Wo: number, nOut: number, env: string | undefined): WeightGradPlan {
  const force = parseOverride(env, 'conv2dBackwardWeight');
  const COT = force.COT ?? Math.min(cfg.COT, s.Co);
  const CIT = force.CIT ?? Math.min(cfg.CIT, s.Ci);
  if (!(COT >= 1 && COT <= 4 && CIT >= 1 && CIT <= 4)) throw new Error(`conv2dBackwardWeight: tile COT=${COT} CIT=${CIT} outside 1–4`);
  const tilesCo = Math.ceil(s.Co / COT);
  const tilesCi = Math.ceil(s.Ci / CIT);
  const Wdv = Math.ceil(Wo / 4);
  const rows = s.N * Ho;
  // Each accumulator lane adds one term per dy vec4 of a row.
  const maxRowsPerChunk = Math.max(1, Math.floor(cfg.laneTerms / Wdv));
  const tapGroups = s.KH * Math.ceil(Math.ceil(s.KW / s.stride) / 4);
  let chunks = Math.max(Math.ceil(rows / maxRowsPerChunk), Math.ceil(cfg.minThreads / (tilesCo * tilesCi * tapGroups)));
  chunks = Math.max(1, Math.min(chunks, rows, Math.floor(cfg.maxPartialFloats / nOut)));
  const rowsPerChunk = Math.ceil(rows / chunks);
  return { COT, CIT, WG: force.WG ?? cfg.WG, Wdv, rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk), tilesCo, tilesCi };
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
  const S = s.stride;
  const nW = s.Co * s.Ci * s.KH * s.KW;
  const nB = db ? s.Co : 0;
  const plan = planWeightGrad(WEIGHT_GRAD[rt.gpu.info.kind], s, Ho, Wo, nW + nB, process.env.WGML_CONV_DW);
  const { Wdv } = plan;
  const Hp = (Ho - 1) * S + s.KH;
  // Phase 0 has the most taps; a group of taps reads Wdv + 1 vec4s from vec4 ⌊a0/4⌋ on.
  const Wp4 = Wdv + Math.ceil(Math.ceil(s.KW / S) / 4);
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
  const part = rt.allocF32(plan.chunks * stride, `${label}.partials`);
  temps.push(part);
  const phaseTaps = Array.from({ length: P }, (_, ph) => Math.ceil((s.KW - ph) / S));
  // Stride 2 with at most 4 taps in all (3×3: 2 + 1) runs both phases in one dispatch.
  const merged = P === 2 && phaseTaps[0]! + phaseTaps[1]! <= 4;
  for (let phase = 0; phase < (merged ? 1 : P); phase++) {
    const taps = phaseTaps[phase]!;
    const taps1 = merged ? phaseTaps[1]! : 0;
    // Taps go in groups of TK starting at multiples of 4 (the shader's window shifts are 0…3).
    const TK = Math.min(4, taps);
    const groups = Math.ceil(taps / TK);
    const total = plan.tilesCi * plan.tilesCo * s.KH * groups * plan.chunks;
    const withBias = db !== null && phase === 0;
    rt.dispatch({
      label: S > 1 && !merged ? `${label} phase ${phase}` : label,
      shader: 'conv2d_backward_weight.wgsl',
      constants: { WG: plan.WG, HAS_BIAS: withBias },
      defines: { COT: plan.COT, CIT: plan.CIT, TK, TK1: taps1 },
      params: i32Params([
        s.Ci, s.Co, Ho, s.N * Ho, plan.rowsPerChunk, Wdv, Hp, Wp4,
        S, s.KH, s.KW, phase, taps, groups, plan.tilesCi, plan.tilesCo,
        total, stride, nW, P, taps1,
      ], label),
      bindings: [xp, dyv, part],
      workgroups: grid1d(total, plan.WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  // The reduce entry always binds a bias output; without one a scratch float stands in.
  const dbOut = db ?? rt.allocF32(1, `${label}.no_bias`);
  if (!db) temps.push(dbOut as PooledBuffer);
  rt.dispatch({
    label: `${label} reduce`,
    shader: 'conv2d_prep.wgsl',
    entry: 'reduce',
    constants: { WG: PREP_WG, ACCUMULATE: !!o.accumulate },
    params: i32Params([nW, nB, plan.chunks, stride], label),
    bindings: [part, dw, dbOut],
    workgroups: grid1d(nW + nB, PREP_WG, rt.device.limits.maxComputeWorkgroupsPerDimension),
  });
  for (const t of temps) rt.release(t);
}

/** The tiles each launcher would pick, for benchmarks and tests. */
export function conv2dPlan(kind: AdapterKind, s: Conv2dShape): { forward: Tile; weightGrad: WeightGradPlan } {
  const { Ho, Wo } = validate('conv2dPlan', s);
  return {
    forward: chooseTile(FORWARD_TILES[kind], s.Co, Ho, Wo, process.env.WGML_CONV_FWD, 'conv2dPlan'),
    weightGrad: planWeightGrad(WEIGHT_GRAD[kind], s, Ho, Wo, s.Co * s.Ci * s.KH * s.KW + s.Co, process.env.WGML_CONV_DW),
  };
}
