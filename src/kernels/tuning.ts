// Every per-adapter kernel shape and every WGML_* variable that changes one. Software drivers
// want big per-invocation register tiles and long contiguous runs per invocation (each storage
// load is a per-lane loop on lavapipe: docs/DESIGN.md, "Software GPUs"); a real GPU wants
// small tiles and many threads (no GPU was available to tune on, so its rows are the
// conventional choice, not measurements). The runs behind each software number are in
// docs/DECISIONS.md ("Kernel tuning tables"). Workgroup sizes that are the same on every
// adapter and fixed by what the kernel does (a power of two for a tree reduction, one lane per
// row) stay next to their launchers.
import type { AdapterKind } from './icd.js';

// ---------------------------------------------------------------- matmul

export interface MatmulTiling {
  TM: number;
  TN: number;
  WG_X: number;
  WG_Y: number;
}

const MATMUL: Record<AdapterKind, MatmulTiling> = {
  // vec4 path (matmul.wgsl main_vec4), 512³ on 2 busy vCPUs, same runs: SwiftShader 16×16
  // 1.9 GFLOP/s (8×8: 1.1, 8×16: 1.0). lavapipe 16×16 runs 4.8–6.4 but its LLVM JIT takes
  // minutes per specialisation (the linear tests timed out), so lavapipe keeps 8×8 (1.3–2).
  swiftshader: { TM: 16, TN: 16, WG_X: 8, WG_Y: 8 },
  lavapipe: { TM: 8, TN: 8, WG_X: 8, WG_Y: 8 },
  gpu: { TM: 4, TN: 4, WG_X: 16, WG_Y: 16 },
};

export function matmulTiling(kind: AdapterKind, env: NodeJS.ProcessEnv = process.env): MatmulTiling {
  const base = { ...MATMUL[kind] };
  // WGML_MATMUL_TILE=TMxTN lets bench/ sweep shapes without editing code.
  const m = /^(\d+)x(\d+)$/.exec(env.WGML_MATMUL_TILE ?? '');
  if (m) {
    base.TM = Number(m[1]);
    base.TN = Number(m[2]);
  }
  for (const [name, v] of [['TM', base.TM], ['TN', base.TN]] as const) {
    if (v % 4 !== 0 || v < 4 || v > 16) throw new Error(`matmul ${name} must be 4, 8, 12 or 16, got ${v}`);
  }
  return base;
}

// ---------------------------------------------------------------- elementwise and reductions

/** Threads per workgroup for 1-D elementwise kernels: 16 hurts SwiftShader, 64–256 is flat. */
export const ELEMENTWISE_WG = 128;

/** Per-adapter knobs for the reduction kernels (and the batch-norm and pooling kernels built on them). */
export interface ReduceTuning {
  /** Threads per workgroup: 16 hurts SwiftShader, 64–256 is flat on the software drivers. */
  WG: number;
  /** Shortest segment (elements) one invocation sums, so tiny segments don't waste threads. */
  minSeg: number;
  /** Up to this many elements per output, one pass (nseg = 1) with no partial buffer. */
  directMax: number;
}

const REDUCE: Record<AdapterKind, ReduceTuning> = {
  swiftshader: { WG: 64, minSeg: 64, directMax: 1024 },
  lavapipe: { WG: 64, minSeg: 64, directMax: 1024 },
  gpu: { WG: 256, minSeg: 32, directMax: 256 },
};

export function reduceTuning(kind: AdapterKind): ReduceTuning {
  return REDUCE[kind];
}

/**
 * Units (vec4s or scalars) of one (n, c) row each invocation of a row-chunked elementwise entry
 * handles: batchnorm's normalize and dx, pooling's gap_bwd.
 */
export const ROW_CHUNK: Record<AdapterKind, { v4: number; s: number }> = {
  // Software drivers: long contiguous runs per invocation measured fastest (16 vec4s: 1.3–1.6×
  // over 4 on both; interleaving lanes across the row was slower). A GPU wants one vec4 per
  // thread so neighbouring threads touch neighbouring addresses.
  swiftshader: { v4: 16, s: 64 },
  lavapipe: { v4: 16, s: 64 },
  gpu: { v4: 1, s: 1 },
};

/** Threads per workgroup of the one-workgroup-per-image reductions (GradCAM, focus metrics); a power of two. */
const IMAGE_REDUCTION_WG: Record<AdapterKind, number> = { swiftshader: 64, lavapipe: 64, gpu: 256 };

export function imageReductionWG(kind: AdapterKind): number {
  return IMAGE_REDUCTION_WG[kind];
}

// ---------------------------------------------------------------- conv2d

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
  /**
   * Share each step's weight loads across a subgroup (needs the subgroups feature and a fixed
   * subgroup size): each lane loads one weight vec4 and subgroupBroadcast hands them round.
   */
  subgroups: boolean;
  /**
   * Single-tap kernels (1×1 convs, the input gradient's single-tap stride phases) over a multiple
   * of 4 channels take 4 reduction channels per step (conv2d_forward.wgsl RCH).
   */
  channelTaps: boolean;
}

/** Tiles and reduction chunking of shaders/conv2d_backward_weight.wgsl. */
export interface Conv2dWeightGradConfig {
  /** Output (1–8) and input (1–4) channels per invocation, COT·CIT ≤ 16. */
  COT: number;
  CIT: number;
  WG: number;
  /** Most terms one f32 accumulator lane sums before its partial goes to the reduce pass. */
  laneTerms: number;
  /** Chunks are added until the invocation count reaches this, to keep every core busy. */
  minThreads: number;
  /** Cap on the partial-sum buffer, in floats. */
  maxPartialFloats: number;
  /**
   * Most bytes of padded x (all input channels) one reduction chunk reads, or 0 for no cap:
   * every output-channel tile re-reads its chunk's x, so a chunk that stays in cache between
   * tiles saves the trips to memory (more chunks, each with fewer rows).
   */
  chunkXBytes: number;
  /**
   * Share dy loads across a subgroup (needs the subgroups feature and a fixed subgroup size):
   * each lane loads one dy vec4 and subgroupBroadcast hands them round.
   */
  subgroups: boolean;
  /** Most dy vec4 columns per accumulator update (1, 2, 4); fewer where padding rows would waste > 15%. */
  U: number;
  /** One flat loop over (row, column group) rather than a column loop inside a row loop. */
  flatLoop: boolean;
  /** In the flat loop, maps one dy vec4 wide take U rows per step instead of one column. */
  rowUnits: boolean;
  /**
   * Run the weight gradient as an explicit GEMM instead (conv2d_weight_gemm.ts): dy and an
   * im2col copy of x per reduction chunk, multiplied by shaders/matmul.wgsl.
   */
  gemm: boolean;
  /** Most bytes of im2col matrix the GEMM path builds at once (chunk groups beyond it). */
  gemmColBytes: number;
  /** The GEMM only for convs with at least this many output channels and Ci·KH·KW weights each. */
  gemmMinCo: number;
  gemmMinK: number;
}

// Forward 8×16 (COTV=2, TWV=4) was at least as fast as 16×16, 16×8 and 8×8 on both drivers
// (with shared weight loads, 16×16 still nets ×1.00 on lavapipe: conv-ab runs, DECISIONS.md);
// weight gradient 4×2 beat 4×4 on lavapipe by 10–40% on 3×3 shapes, a tie on SwiftShader; once
// dy loads are shared across a subgroup, 8×2 beats 4×2 on lavapipe (×1.11 torchvision step, ×1.21 CIFAR)
// (A/B runs in CPU seconds: the machine is shared). Merging the two column phases of a 3×3
// stride-2 forward step: SwiftShader +40–60%; lavapipe −30–45% while every invocation loaded
// its own weights, ×1.01–1.40 per shape once a subgroup shares them (conv-ab-fwd-merge-lavapipe.md).
// Four reduction channels per step of a single-tap kernel (the 1×1 stride-2 downsamples, forward
// and input gradient): SwiftShader ×1.15–1.60 per downsample; lavapipe ×0.43–0.74 forward and
// ×0.54–0.71 input gradient (its 256-bit lanes spill the wider step): conv-ab-*-cht-*.md.
const CONV_FORWARD: Record<AdapterKind, Conv2dTileConfig> = {
  lavapipe: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: true, WG: 64, subgroups: true, channelTaps: false },
  swiftshader: { COTV: 2, maxCOTV: 4, maxTWV: 4, maxTHO: 4, maxBlocks: 8, mergePhases: true, WG: 64, subgroups: true, channelTaps: true },
  gpu: { COTV: 1, maxCOTV: 1, maxTWV: 1, maxTHO: 1, maxBlocks: 1, mergePhases: true, WG: 64, subgroups: false, channelTaps: false },
};

// The input gradient's phases run the forward kernel; its tiles were not measured apart.
const CONV_INPUT_GRAD: Record<AdapterKind, Conv2dTileConfig> = CONV_FORWARD;

// Weight gradient in one flat loop over (row, column group) with U dy columns per accumulator
// update, against a column loop inside a row loop with U = 1 (torchvision stem, summed per step):
// SwiftShader U = 4 ×1.66 (16.7 → 10.1 s; U = 2 was ×0.83–0.87 of U = 4), lavapipe U = 2 ×1.38
// (CIFAR stem ×1.21; U = 4 lost on the 28- and 56-wide maps): conv-ab-dw-flat-*.md. 4-wide
// maps taking U rows per step instead: SwiftShader ×1.21–1.51 on layer4's three shapes;
// lavapipe ×1.01 on the 3×3 and ×0.73 on the merged-phase stride-2 conv, so it keeps columns.
// In the flat loop SwiftShader gains from dy shared across its 4-lane subgroups too (×1.04 and
// ×1.14 over a step's shapes in two runs; ×0.91 with the nested loop): conv-ab-dw-flat-subgroup.
// SwiftShader runs the weight gradient as a GEMM on im2col chunks where the conv has ≥ 64 output
// channels and ≥ 48 weights per channel: ×1.14–3.4 per shape at width 64 (conv-ab-dw-gemm); at
// width 8 it lost ×0.16–0.82 on the convs with fewer channels, tied on layer4 (Co = 64), and
// lost ×0.33 on its 1×1 conv (K = 32): conv-ab-dw-gemm-w8. lavapipe's 8×8 matmul loses to its
// direct kernel ×0.34–0.58 on 3×3 shapes.
// lavapipe cuts the reduction into chunks that read at most 2 MiB of x: CIFAR stem's dw ×1.06
// over a step's shapes in three runs (1–4 MiB ×1.05–1.10; ×1.10–1.33 on the 28- and 14-wide
// maps and stride-2 convs, which otherwise ran 224 rows per chunk); torchvision stem ×0.99
// (conv-ab-dw-xkb-sweep-*-lavapipe.md, conv-ab-dw-chunk-x-2048{,-tv}-lavapipe.md).
const CONV_WEIGHT_GRAD: Record<AdapterKind, Conv2dWeightGradConfig> = {
  lavapipe: { COT: 8, CIT: 2, WG: 64, laneTerms: 2048, minThreads: 1024, maxPartialFloats: 16 << 20, chunkXBytes: 2 << 20, subgroups: true, U: 2, flatLoop: true, rowUnits: false, gemm: false, gemmColBytes: 64 << 20, gemmMinCo: 64, gemmMinK: 48 },
  swiftshader: { COT: 4, CIT: 4, WG: 64, laneTerms: 2048, minThreads: 1024, maxPartialFloats: 16 << 20, chunkXBytes: 0, subgroups: true, U: 4, flatLoop: true, rowUnits: true, gemm: true, gemmColBytes: 64 << 20, gemmMinCo: 64, gemmMinK: 48 },
  gpu: { COT: 2, CIT: 2, WG: 64, laneTerms: 1024, minThreads: 65536, maxPartialFloats: 32 << 20, chunkXBytes: 0, subgroups: false, U: 1, flatLoop: false, rowUnits: false, gemm: false, gemmColBytes: 128 << 20, gemmMinCo: 64, gemmMinK: 48 },
};

export type Conv2dPass = 'forward' | 'inputGrad' | 'weightGrad';

const CONV_ENV: Record<Conv2dPass, string> = { forward: 'WGML_CONV_FWD', inputGrad: 'WGML_CONV_DX', weightGrad: 'WGML_CONV_DW' };

export function conv2dTiles(kind: AdapterKind, pass: 'forward' | 'inputGrad'): Conv2dTileConfig {
  return (pass === 'forward' ? CONV_FORWARD : CONV_INPUT_GRAD)[kind];
}

export function conv2dWeightGradConfig(kind: AdapterKind): Conv2dWeightGradConfig {
  return CONV_WEIGHT_GRAD[kind];
}

/**
 * Tile fields bench/ forces for one conv pass: WGML_CONV_FWD / WGML_CONV_DX / WGML_CONV_DW,
 * e.g. "COTV=2,TWV=4" or "COT=4,CIT=2" (also WG, THO, MERGE=0|1, U=1|2|4: dy columns per weight-gradient update, FLAT=0|1: its loop flat or nested, UROWS=0|1: U rows rather than columns, RPC: its rows per chunk, XKB: its chunkXBytes in KiB (0: no cap), CHT=0|1: four reduction channels per
 * step in single-tap forward kernels, and SG=0|1: loads shared across a subgroup or not; GEMM=0|1: the weight gradient as an explicit GEMM or the direct kernel, whose fields
 * above select the direct kernel when GEMM is not given; GROUP: the GEMM's chunks per im2col
 * group). `what` names the op in errors.
 */
export function conv2dOverride(pass: Conv2dPass, what: string, env: NodeJS.ProcessEnv = process.env): Record<string, number> {
  const spec = env[CONV_ENV[pass]];
  const out: Record<string, number> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const m = /^\s*(\w+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`${what}: cannot parse '${part}' (expected e.g. COT=8,TWV=4)`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

// ---------------------------------------------------------------- augmentation

export type AugmentShape = 'pixel' | 'column';

/**
 * Launch shape of the augment.wgsl kernels per adapter: columns measured 1.3–1.6× faster on
 * lavapipe and equal on SwiftShader (batch 64, 112²); real GPUs want the B·S² threads of the
 * per-pixel shape.
 */
const AUGMENT_SHAPE: Record<AdapterKind, AugmentShape> = { gpu: 'pixel', lavapipe: 'column', swiftshader: 'column' };

/** The adapter's launch shape, or WGML_AUGMENT_SHAPE=pixel|column (benchmarks). */
export function augmentShape(kind: AdapterKind, env: NodeJS.ProcessEnv = process.env): AugmentShape {
  const forced = env.WGML_AUGMENT_SHAPE;
  if (forced === 'pixel' || forced === 'column') return forced;
  if (forced) throw new RangeError(`WGML_AUGMENT_SHAPE must be pixel or column, got '${forced}'`);
  return AUGMENT_SHAPE[kind];
}
