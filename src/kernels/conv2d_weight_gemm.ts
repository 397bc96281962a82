// The weight gradient as an explicit GEMM, for adapters where shaders/matmul.wgsl outruns the
// direct kernel (SwiftShader: its register tiles live in memory, and the matmul's 16×16 tile
// does 16 vec4 FMAs per accumulator-block visit against the direct kernel's 12; see
// docs/DECISIONS.md).
//
// The N·Ho·Wo output positions are cut into chunks of L. Per chunk c:
//   part[c] [Co, NK] = A[c] [Co, L] · B[c] [L, NK]
// with A the chunk's dy rows (gathered once for all chunks) and B its im2col matrix (built a
// group of chunks at a time, so its size stays bounded); conv2d_prep.wgsl:reduce then sums the
// chunks. A single chunk whose rows are dw's own (no bias column, Ci·KH·KW a multiple of 4)
// is written straight into dw. Each accumulator sums at most laneTerms products in one f32
// chain, the same bound as the direct kernel's lanes (src/kernels/conv2d.ts).
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';
import type { Conv2dShape } from './conv2d_shape.js';
import type { Conv2dWeightGradConfig } from './tuning.js';
import { matmulTiling } from './tuning.js';
import { matmul } from './matmul.js';
import { grid1d } from './elementwise.js';
import { planWeightGradGemm } from './conv2d_plan.js';
import { reduceWeightGradPartials } from './conv2d_reduce.js';

const PREP_WG = 128;

export interface ConvGeometry {
  Ho: number;
  Wo: number;
  /** Top and left padding. */
  ph: number;
  pw: number;
}

export function conv2dWeightGradGemm(rt: Runtime, x: BufferLike, dy: BufferLike, dw: BufferLike, db: BufferLike | null, s: Conv2dShape, g: ConvGeometry, cfg: Conv2dWeightGradConfig, force: Record<string, number>, label: string, accumulate: boolean): void {
  const mm = matmulTiling(rt.gpu.info.kind);
  const { L, chunks, NK, groupChunks } = planWeightGradGemm(cfg, s, g.Ho, g.Wo, db !== null, mm.TM, mm.TN, rt.device.limits.maxStorageBufferBindingSize, force);
  const K = s.Ci * s.KH * s.KW;
  const base = {
    M: s.N * g.Ho * g.Wo, L, Co: s.Co, HW: g.Ho * g.Wo, Ci: s.Ci, H: s.H, W: s.W, Wo: g.Wo,
    KH: s.KH, KW: s.KW, S: s.stride, NK, padH: g.ph, padW: g.pw,
  };
  const maxGroups = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const rows = rt.allocF32(chunks * s.Co * L, `${label}.dy_rows`);
  // gather: one invocation per (chunk, output channel); im2col: one per row of a chunk.
  const gatherTotal = chunks * s.Co;
  rt.dispatch({
    label: `${label} gather dy`,
    shader: 'conv2d_weight_gemm.wgsl',
    entry: 'gather',
    constants: { WG: PREP_WG },
    params: { ...base, c0: 0, total: gatherTotal },
    bindings: { gatherSrc: dy, gatherDst: rows },
    workgroups: grid1d(gatherTotal, PREP_WG, maxGroups),
  });
  // One chunk whose rows are exactly dw's (no bias column, no padding): the GEMM writes dw.
  const direct = chunks === 1 && NK === K;
  const part = direct ? null : rt.allocF32(chunks * s.Co * NK, `${label}.partials`);
  const col = rt.allocF32(groupChunks * L * NK, `${label}.im2col`);
  for (let c0 = 0; c0 < chunks; c0 += groupChunks) {
    const batch = Math.min(groupChunks, chunks - c0);
    const colTotal = batch * L;
    rt.dispatch({
      label: `${label} im2col`,
      shader: 'conv2d_weight_gemm.wgsl',
      entry: 'im2col',
      constants: { WG: PREP_WG, HAS_BIAS: db !== null },
      params: { ...base, c0, total: colTotal },
      bindings: { colSrc: x, colDst: col },
      workgroups: grid1d(colTotal, PREP_WG, maxGroups),
    });
    matmul(rt, rows, col, part ?? dw, {
      M: s.Co, N: NK, K: L, batch,
      strideA: s.Co * L, strideB: L * NK, strideC: s.Co * NK,
      offsetA: c0 * s.Co * L, offsetC: c0 * s.Co * NK,
      accumulate: part === null && accumulate, beta: 1,
      label: `${label} gemm`,
    });
  }
  if (part) {
    reduceWeightGradPartials(rt, label, part, dw, db, {
      nW: s.Co * K, nB: db ? s.Co : 0, chunks, stride: s.Co * NK, cols: K, rowLen: NK, bias0: K, biasStep: NK,
    }, accumulate);
    rt.release(part);
  }
  rt.release(rows);
  rt.release(col);
}
