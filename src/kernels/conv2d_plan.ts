// How each conv launcher cuts its work: register tiles and their grid for the forward kernel,
// the taps of a kernel row per step, the stride phases of the input gradient, and the
// weight gradient's reduction chunks. Pure functions of the shape and the adapter's tables
// (src/kernels/tuning.ts), so benchmarks and tests can ask what a launcher would do.
import type { AdapterKind } from './icd.js';
import { conv2dOverride, conv2dTiles, conv2dWeightGradConfig, type Conv2dTileConfig, type Conv2dWeightGradConfig } from './tuning.js';
import { validate, type Conv2dShape } from './conv2d_shape.js';

/** Splits `n` into ⌈n/max⌉ near-equal parts of at most `max`; returns the part size. */
function balanced(n: number, max: number): number {
  return Math.ceil(n / Math.ceil(n / Math.max(1, max)));
}

export interface Tile {
  COTV: number;
  TWV: number;
  THO: number;
  mergePhases: boolean;
  WG: number;
  /** Subgroup size the weight loads are shared over (conv2d_forward_subgroup.wgsl), 0 for own loads. */
  SG: number;
  /** Whether single-tap kernels may take 4 reduction channels per step (reductionChannelsPerStep). */
  channelTaps: boolean;
  tilesW: number;
  tilesH: number;
  tilesO: number;
}

/** Tile of the forward kernel for an O×Hq×Wq output. */
export function chooseTile(cfg: Conv2dTileConfig, O: number, Hq: number, Wq: number, force: Record<string, number>, what: string, subgroupSize: number | null = null): Tile {
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
  const WG = force.WG ?? cfg.WG;
  return {
    COTV, TWV, THO, mergePhases: force.MERGE === undefined ? cfg.mergePhases : force.MERGE !== 0, WG,
    SG: sharedLoadLanes(cfg.subgroups, subgroupSize, force, WG, what),
    channelTaps: force.CHT === undefined ? cfg.channelTaps : force.CHT !== 0,
    tilesW: Math.ceil(Wv / TWV), tilesH: Math.ceil(Hq / THO), tilesO: Math.ceil(O / (4 * COTV)),
  };
}

/**
 * How the forward kernel walks the taps of a kernel row: P stored column phases, groups of TK
 * taps (Gp per phase, G groups iterated per row). TK = the taps of phase 0 (at most 4). Stride 2
 * with at most 4 taps in all (3×3: 2 + 1) does both phases in one step (TK1 = phase 1's taps),
 * so no zero-weight taps are computed; otherwise a phase with fewer taps pads with zero weights.
 */
export interface TapGroups {
  P: number;
  TK: number;
  TK1: number;
  Gp: number;
  G: number;
  /** Phase-row counter step per group: 1, or P when one step covers both phases. */
  rpStep: number;
}

export function tapGroups(KW: number, S: number, mergePhases: boolean): TapGroups {
  const P = Math.min(S, KW);
  const taps0 = Math.ceil(KW / S);
  const taps1 = P > 1 ? Math.ceil((KW - 1) / S) : 0;
  if (mergePhases && P === 2 && taps0 + taps1 <= 4) return { P, TK: taps0, TK1: taps1, Gp: 1, G: 1, rpStep: 2 };
  const TK = Math.min(4, taps0);
  const Gp = Math.ceil(taps0 / TK);
  return { P, TK, TK1: 0, Gp, G: P * Gp, rpStep: 1 };
}

/**
 * Reduction channels per step of the forward kernel (conv2d_forward.wgsl RCH): 4 when a step
 * has a single tap (one kernel row of one tap in one group) and the R reduction channels are a
 * multiple of 4, so the last step reads no channel of the next image; else 1.
 */
export function reductionChannelsPerStep(tile: Tile, g: TapGroups, KH: number, R: number): 1 | 4 {
  return tile.channelTaps && KH === 1 && g.TK === 1 && g.TK1 === 0 && g.G === 1 && R % 4 === 0 ? 4 : 1;
}

/** vec4s per padded phase row: the last column tile reads TWV+1 vec4s from vec4 Gp−1 on. */
export function paddedRowVec4s(tile: Tile, g: TapGroups): number {
  return tile.tilesW * tile.TWV + g.Gp;
}

/** One stride phase of the input gradient along one axis. */
export interface Phase {
  rho: number;
  /** Taps of this phase: kh = rho + S·t, t < taps. */
  taps: number;
  /** First phase index q whose input position S·q + rho − pad is ≥ 0. */
  q0: number;
  /** Number of input positions in this phase. */
  count: number;
}

export function phases(size: number, K: number, S: number, pad: number): Phase[] {
  const out: Phase[] = [];
  for (let rho = 0; rho < S; rho++) {
    const taps = Math.ceil((K - rho) / S);
    const q0 = Math.max(0, Math.ceil((pad - rho) / S));
    const count = Math.floor((size - 1 + pad - rho) / S) - q0 + 1;
    out.push({ rho, taps: Math.max(0, taps), q0, count: Math.max(0, count) });
  }
  return out;
}

export interface WeightGradPlan {
  COT: number;
  CIT: number;
  WG: number;
  /** Subgroup size the dy loads are shared over (conv2d_backward_weight_subgroup.wgsl), 0 for own loads. */
  SG: number;
  /** dy vec4s per row. */
  Wdv: number;
  /** dy vec4 columns per accumulator update; dy rows are padded to WdvU = a multiple of U vec4s. */
  U: number;
  WdvU: number;
  /** vec4s per padded x row of one phase (weightGradXRowVec4s). */
  Wp4: number;
  /** One flat loop over (row, column group) (conv2d_backward_weight.wgsl FLAT). */
  flat: boolean;
  /** A step's U units are rows, not columns (conv2d_backward_weight.wgsl UROWS). */
  rowUnits: boolean;
  rowsPerChunk: number;
  chunks: number;
  tilesCo: number;
  tilesCi: number;
}

/**
 * Subgroup size a conv kernel shares its loads over: the adapter's fixed size when its table
 * asks for it (or a WGML_CONV_* override has SG=1), else 0 (own loads). A subgroup must have at
 * least `minLanes` lanes (and 4) and tile the workgroup; SG=1 where it does not is an error
 * naming `what`, while the table's wish is then dropped quietly.
 */
function sharedLoadLanes(tableWants: boolean, subgroupSize: number | null, force: Record<string, number>, WG: number, what: string, minLanes = 4): number {
  const want = force.SG === undefined ? tableWants : force.SG !== 0;
  if (!want) return 0;
  const need = Math.max(4, minLanes);
  if (subgroupSize !== null && subgroupSize >= need && WG % subgroupSize === 0) return subgroupSize;
  if (force.SG === undefined) return 0;
  throw new Error(subgroupSize === null
    ? `${what}: SG=1 needs a device with the subgroups feature and a fixed subgroup size`
    : `${what}: SG=1 needs a subgroup size ≥ ${need} dividing the workgroup size ${WG}, got ${subgroupSize}`);
}

export function planWeightGrad(cfg: Conv2dWeightGradConfig, s: Conv2dShape, Ho: number, Wo: number, nOut: number, force: Record<string, number>, subgroupSize: number | null = null): WeightGradPlan {
  const COT = force.COT ?? Math.min(cfg.COT, s.Co);
  const CIT = force.CIT ?? Math.min(cfg.CIT, s.Ci);
  if (!(COT >= 1 && COT <= 8 && CIT >= 1 && CIT <= 4 && COT * CIT <= 16)) {
    throw new Error(`conv2dBackwardWeight: tile COT=${COT} CIT=${CIT} outside COT 1–8, CIT 1–4, COT·CIT ≤ 16`);
  }
  const WG = force.WG ?? cfg.WG;
  // A shared load gives each of the COT loading lanes one dy vec4, so COT ≤ the subgroup size.
  const SG = sharedLoadLanes(cfg.subgroups, subgroupSize, force, WG, 'conv2dBackwardWeight', COT);
  const tilesCo = Math.ceil(s.Co / COT);
  const tilesCi = Math.ceil(s.Ci / CIT);
  const Wdv = Math.ceil(Wo / 4);
  const flat = force.FLAT === undefined ? cfg.flatLoop : force.FLAT !== 0;
  let U = force.U ?? cfg.U;
  if (![1, 2, 4].includes(U)) throw new Error(`conv2dBackwardWeight: U=${U} is not 1, 2 or 4`);
  // A row one dy vec4 wide gives its U units to rows of one image (flat loop only): the most
  // that divides Ho.
  let rowUnits = force.UROWS === undefined ? cfg.rowUnits && flat && Wdv === 1 && U > 1 : force.UROWS !== 0;
  if (rowUnits) {
    if (!flat || Wdv !== 1) throw new Error(`conv2dBackwardWeight: UROWS=1 needs FLAT=1 and one dy vec4 per row, got ${Wdv}`);
    if (force.U === undefined) while (U > 1 && Ho % U !== 0) U /= 2;
    if (Ho % U !== 0 && force.UROWS !== undefined) throw new Error(`conv2dBackwardWeight: UROWS=1 needs U=${U} to divide the output height ${Ho}`);
    // Not forced: a forced U that does not divide Ho, or one row per step, stays with columns.
    if (force.UROWS === undefined && (Ho % U !== 0 || U === 1)) rowUnits = false;
  }
  if (!rowUnits && force.U === undefined) {
    while (U > 1 && Math.ceil(Wdv / U) * U > Wdv * 1.15) U /= 2;
  }
  const rows = s.N * Ho;
  const WdvU = rowUnits ? Wdv : Math.ceil(Wdv / U) * U;
  const Wp4 = weightGradXRowVec4s(WdvU, s.KW, s.stride);
  // Each accumulator lane adds one term per dy vec4 of a row.
  const maxRowsPerChunk = Math.max(1, Math.floor(cfg.laneTerms / Wdv));
  const tapGroups = s.KH * Math.ceil(Math.ceil(s.KW / s.stride) / 4);
  let chunks = Math.max(Math.ceil(rows / maxRowsPerChunk), Math.ceil(cfg.minThreads / (tilesCo * tilesCi * tapGroups)));
  // An output row reads S new padded x rows of P phases per input channel.
  const xKiB = force.XKB ?? cfg.chunkXBytes / 1024;
  if (!(Number.isInteger(xKiB) && xKiB >= 0)) throw new Error(`conv2dBackwardWeight: XKB=${xKiB} is not a whole number of KiB ≥ 0`);
  if (xKiB > 0) {
    const xRowBytes = s.Ci * s.stride * Math.min(s.stride, s.KW) * Wp4 * 16;
    chunks = Math.max(chunks, Math.ceil(rows / Math.max(1, Math.floor((xKiB * 1024) / xRowBytes))));
  }
  chunks = Math.max(1, Math.min(chunks, rows, Math.floor(cfg.maxPartialFloats / nOut)));
  // RPC forces the rows per chunk (tests: chunks that start mid-image and cross images).
  let rowsPerChunk = force.RPC !== undefined ? Math.max(1, Math.min(force.RPC, rows)) : Math.ceil(rows / chunks);
  // Row units: chunks of whole groups of U rows (Ho is a multiple of U, so none crosses images).
  if (rowUnits) rowsPerChunk = Math.min(Math.ceil(rowsPerChunk / U) * U, Math.max(U, Math.floor(maxRowsPerChunk / U) * U));
  return { COT, CIT, WG, SG, Wdv, U, WdvU, Wp4, flat, rowUnits, rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk), tilesCo, tilesCi };
}

/**
 * vec4s per padded x row (per phase) of the direct weight gradient: a group of taps reads
 * WdvU + 1 vec4s from vec4 ⌊a0/4⌋ on, and phase 0 has the most taps.
 */
export function weightGradXRowVec4s(WdvU: number, KW: number, stride: number): number {
  return WdvU + Math.ceil(Math.ceil(KW / stride) / 4);
}

/** Fields of WGML_CONV_DW that only the direct weight-gradient kernel has. */
const DIRECT_FIELDS = ['COT', 'CIT', 'WG', 'SG', 'U', 'FLAT', 'UROWS', 'RPC', 'XKB'];

/**
 * Whether the weight gradient runs as an explicit GEMM: GEMM=0|1 when forced, else the direct
 * kernel when any of its own fields is forced, else the adapter's table, for convs with at
 * least `gemmMinCo` output channels and `gemmMinK` weights per output channel.
 */
export function useWeightGradGemm(cfg: Conv2dWeightGradConfig, force: Record<string, number>, s: Conv2dShape): boolean {
  if (force.GEMM !== undefined) return force.GEMM !== 0;
  if (DIRECT_FIELDS.some((f) => force[f] !== undefined)) return false;
  return cfg.gemm && s.Co >= cfg.gemmMinCo && s.Ci * s.KH * s.KW >= cfg.gemmMinK;
}

export interface WeightGradGemmPlan {
  /** Output positions (n, oh, ow) per reduction chunk: the GEMM's K, a multiple of 4. */
  L: number;
  chunks: number;
  /** Columns of the im2col matrix: Ci·KH·KW, plus a column of ones for the bias, rounded up to 4. */
  NK: number;
  /** Chunks whose im2col matrices are built and multiplied at once. */
  groupChunks: number;
}

/**
 * Reduction chunks of the GEMM weight gradient: each f32 accumulator sums at most laneTerms
 * positions (the same bound as the direct kernel's lanes), and there are enough chunks that
 * the GEMM has `minThreads` invocations of `tileRows`×`tileCols` blocks.
 */
export function planWeightGradGemm(cfg: Conv2dWeightGradConfig, s: Conv2dShape, Ho: number, Wo: number, bias: boolean, tileRows: number, tileCols: number, maxBindingBytes: number, force: Record<string, number> = {}): WeightGradGemmPlan {
  const M = s.N * Ho * Wo;
  const NK = Math.ceil((s.Ci * s.KH * s.KW + (bias ? 1 : 0)) / 4) * 4;
  const tiles = Math.ceil(s.Co / tileRows) * Math.ceil(NK / tileCols);
  let chunks = Math.max(Math.ceil(M / cfg.laneTerms), Math.ceil(cfg.minThreads / tiles));
  chunks = Math.max(1, Math.min(chunks, Math.ceil(M / 4), Math.floor(cfg.maxPartialFloats / (s.Co * NK))));
  const L = Math.ceil(M / chunks / 4) * 4;
  chunks = Math.ceil(M / L);
  const colBytes = Math.min(cfg.gemmColBytes, maxBindingBytes);
  // GROUP forces the chunks per im2col group (tests: several groups).
  const groupChunks = Math.max(1, Math.min(chunks, force.GROUP ?? Math.floor(colBytes / (L * NK * 4))));
  if (L * NK * 4 > maxBindingBytes) {
    throw new Error(`conv2dBackwardWeight: one GEMM chunk's im2col matrix (${L}×${NK} floats) exceeds the device's ${maxBindingBytes}-byte storage binding; use GEMM=0`);
  }
  return { L, chunks, NK, groupChunks };
}

/** The tiles each launcher would pick, for benchmarks and tests. */
export function conv2dPlan(kind: AdapterKind, s: Conv2dShape, subgroupSize: number | null = null): { forward: Tile; weightGrad: WeightGradPlan } {
  const { Ho, Wo } = validate('conv2dPlan', s);
  return {
    forward: chooseTile(conv2dTiles(kind, 'forward'), s.Co, Ho, Wo, conv2dOverride('forward', 'conv2dPlan'), 'conv2dPlan', subgroupSize),
    weightGrad: planWeightGrad(conv2dWeightGradConfig(kind), s, Ho, Wo, s.Co * s.Ci * s.KH * s.KW + s.Co, conv2dOverride('weightGrad', 'conv2dBackwardWeight'), subgroupSize),
  };
}
