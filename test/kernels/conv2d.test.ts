import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, type Conv2dShape,
} from '../../src/kernels/conv2d.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { numericalGrad, dot, sampleIndices } from '../helpers/finite_diff.js';
import { conv2dRef, conv2dBackwardInputRef, conv2dBackwardWeightRef } from '../reference/conv2d.js';

const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/**
 * Asserts |got − want| ≤ bound[i] with bound = 2·(m + 2)·2⁻²⁴·Σ|terms| + 1e-30: the textbook
 * bound γ_m·Σ|terms| for any order of m f32 additions of exactly formed products (fma), doubled
 * in case a driver splits fma into mul+add, +2 for the bias / accumulate add. The inputs are
 * f32 values, so the float64 reference is exact to ~1e-16. A wrong index or a missed term gives
 * an error of the size of a term (~0.1–1), far above these bounds (~1e-5 relative).
 */
function expectWithinBound(got: ArrayLike<number>, want: ArrayLike<number>, absSum: ArrayLike<number>, m: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const u = 2 ** -24;
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < want.length; i++) {
    const bound = 2 * (m + 2) * u * absSum[i]! + 1e-30;
    const ratio = Math.abs(got[i]! - want[i]!) / bound;
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}[${worst}] = ${got[worst]} but expected ${want[worst]} (error ${(worstRatio).toFixed(1)}× the bound for ${m} terms)`);
  }
}

function label(s: Conv2dShape): string {
  return `N=${s.N} Ci=${s.Ci} ${s.H}x${s.W} -> Co=${s.Co} k${s.KH}x${s.KW} s${s.stride} p${s.pad}`;
}

describe('conv2d float64 reference backward vs central finite differences', () => {
  const shapes: Conv2dShape[] = [
    { N: 2, Ci: 3, H: 7, W: 6, Co: 4, KH: 3, KW: 3, stride: 2, pad: 1 },
    { N: 1, Ci: 2, H: 7, W: 5, Co: 3, KH: 1, KW: 1, stride: 2, pad: 0 },
    { N: 1, Ci: 2, H: 9, W: 8, Co: 2, KH: 7, KW: 7, stride: 2, pad: 3 },
  ];
  for (const s of shapes) {
    it(label(s), () => {
      const [Ho, Wo] = [conv2dOutputSize(s).Ho, conv2dOutputSize(s).Wo];
      const x = f64(uniform(s.N * s.Ci * s.H * s.W, 11));
      const w = f64(uniform(s.Co * s.Ci * s.KH * s.KW, 12));
      const b = f64(uniform(s.Co, 13));
      const g = f64(uniform(s.N * s.Co * Ho * Wo, 14)); // dL/dy for L = Σ g·y
      const L = () => dot(conv2dRef(x, w, b, s), g);
      const dx = conv2dBackwardInputRef(g, w, s);
      const { dw, db } = conv2dBackwardWeightRef(x, g, s);
      // L is linear in each argument, so central differences are exact up to rounding
      // (~1e-16·|L|/h ≈ 1e-9): 1e-6 is a tight check.
      const tol = (a: number, b2: number) => Math.abs(a - b2) <= 1e-6 * (1 + Math.abs(b2));
      const check = (num: Float64Array, ana: Float64Array, idx: number[], what: string) => {
        for (const i of idx) expect(tol(num[i]!, ana[i]!), `${what}[${i}]: numeric ${num[i]} vs analytic ${ana[i]}`).toBe(true);
      };
      const ix = sampleIndices(x.length, 200);
      check(numericalGrad(L, x, ix), dx, ix, 'dx');
      const iw = sampleIndices(w.length, 200);
      check(numericalGrad(L, w, iw), dw, iw, 'dw');
      check(numericalGrad(L, b), db, Array.from(b.keys()), 'db');
      // Stride 2 leaves some inputs untouched (1×1 odd rows/cols): their gradient must be 0.
      if (s.KH === 1) expect(dx[s.W]).toBe(0);
    });
  }
});

describe('conv2d GPU vs float64 reference', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  interface Case {
    s: Conv2dShape;
    bias: boolean;
    accumulate: boolean;
  }
  // Odd sizes everywhere: channel counts that are not multiples of 4/8/16, odd H and W,
  // stride 2 on odd inputs, padding 0/1/3, batch 1. Few distinct kernel sizes, because every
  // specialisation is a JIT compile on a software GPU.
  const cases: Case[] = [
    { s: { N: 1, Ci: 3, H: 9, W: 11, Co: 5, KH: 3, KW: 3, stride: 1, pad: 1 }, bias: true, accumulate: false },
    { s: { N: 2, Ci: 5, H: 9, W: 9, Co: 7, KH: 3, KW: 3, stride: 2, pad: 1 }, bias: false, accumulate: false },
    { s: { N: 2, Ci: 7, H: 11, W: 10, Co: 13, KH: 1, KW: 1, stride: 2, pad: 0 }, bias: false, accumulate: true },
    { s: { N: 1, Ci: 3, H: 11, W: 13, Co: 5, KH: 7, KW: 7, stride: 2, pad: 3 }, bias: true, accumulate: false },
    { s: { N: 2, Ci: 13, H: 5, W: 8, Co: 9, KH: 3, KW: 3, stride: 1, pad: 0 }, bias: true, accumulate: true },
    // H = 10, pad 0, stride 2: input row 9 (and column 8) feeds no output, so its gradient is 0.
    { s: { N: 3, Ci: 4, H: 10, W: 9, Co: 8, KH: 3, KW: 3, stride: 2, pad: 0 }, bias: false, accumulate: false },
    { s: { N: 1, Ci: 1, H: 9, W: 9, Co: 16, KH: 3, KW: 3, stride: 1, pad: 1 }, bias: true, accumulate: false },
    // Several column tiles per row, several reduction chunks for dw; rows of whole vec4s take
    // the vec4-store kernel (also the stride-1 input gradient above, and the s2 forward below).
    { s: { N: 2, Ci: 16, H: 19, W: 36, Co: 20, KH: 3, KW: 3, stride: 1, pad: 1 }, bias: true, accumulate: false },
    { s: { N: 1, Ci: 6, H: 15, W: 71, Co: 6, KH: 3, KW: 3, stride: 2, pad: 1 }, bias: false, accumulate: true },
    { s: { N: 1, Ci: 2, H: 6, W: 5, Co: 3, KH: 3, KW: 3, stride: 1, pad: [1, 0] }, bias: true, accumulate: false },
    // More than 4 taps per kernel row and phase: several tap groups (the last one partly zero).
    { s: { N: 1, Ci: 2, H: 8, W: 9, Co: 3, KH: 7, KW: 7, stride: 1, pad: 3 }, bias: false, accumulate: false },
  ];

  async function checkCase(s: Conv2dShape, bias: boolean, accumulate: boolean, seed: number): Promise<void> {
    const { Ho, Wo } = conv2dOutputSize(s);
    const nx = s.N * s.Ci * s.H * s.W;
    const nw = s.Co * s.Ci * s.KH * s.KW;
    const ny = s.N * s.Co * Ho * Wo;
    const x = uniform(nx, seed + 1);
    const w = uniform(nw, seed + 2);
    const b = uniform(s.Co, seed + 3);
    const g = uniform(ny, seed + 4);
    const X = rt.upload(x);
    const Wb = rt.upload(w);
    const B = bias ? rt.upload(b) : null;
    const Y = rt.allocF32(ny);
    const G = rt.upload(g);
    // Accumulate mode adds into existing gradients; plain mode must overwrite garbage.
    const dx0 = uniform(nx, seed + 5, accumulate ? -1 : 1e6, accumulate ? 1 : 2e6);
    const dw0 = uniform(nw, seed + 6, accumulate ? -1 : 1e6, accumulate ? 1 : 2e6);
    const db0 = uniform(s.Co, seed + 7, accumulate ? -1 : 1e6, accumulate ? 1 : 2e6);
    const DX = rt.upload(dx0);
    const DW = rt.upload(dw0);
    const DB = bias ? rt.upload(db0) : null;

    conv2dForward(rt, X, Wb, B, Y, s);
    conv2dBackwardInput(rt, G, Wb, DX, s, { accumulate });
    conv2dBackwardWeight(rt, X, G, DW, DB, s, { accumulate });
    const y = await rt.readF32(Y, ny);
    const dx = await rt.readF32(DX, nx);
    const dw = await rt.readF32(DW, nw);
    const db = DB ? await rt.readF32(DB, s.Co) : null;

    const K = s.Ci * s.KH * s.KW;
    expectWithinBound(y, conv2dRef(x, w, bias ? b : null, s), conv2dRef(abs(x), abs(w), bias ? abs(b) : null, s), K, 'y');

    const plus = (base: Float32Array, add: Float64Array) => (accumulate ? add.map((v, i) => v + base[i]!) : add);
    const plusAbs = (base: Float32Array, add: Float64Array) => (accumulate ? add.map((v, i) => v + Math.abs(base[i]!)) : add);
    const dxWant = conv2dBackwardInputRef(g, w, s);
    const dxAbs = conv2dBackwardInputRef(abs(g), abs(w), s);
    expectWithinBound(dx, plus(dx0, dxWant), plusAbs(dx0, dxAbs), s.Co * s.KH * s.KW, 'dx');
    // Inputs no output reads get exactly zero gradient (plus the old value when accumulating).
    dxAbs.forEach((v, i) => {
      if (v === 0) expect(dx[i], `dx[${i}] untouched by any tap`).toBe(accumulate ? dx0[i] : 0);
    });

    const { dw: dwWant, db: dbWant } = conv2dBackwardWeightRef(x, g, s);
    const { dw: dwAbs, db: dbAbs } = conv2dBackwardWeightRef(abs(x), abs(g), s);
    const terms = s.N * Ho * Wo;
    expectWithinBound(dw, plus(dw0, dwWant), plusAbs(dw0, dwAbs), terms, 'dw');
    if (db) expectWithinBound(db, plus(db0, dbWant), plusAbs(db0, dbAbs), terms, 'db');

    for (const buf of [X, Wb, Y, G, DX, DW, ...(B ? [B] : []), ...(DB ? [DB] : [])]) rt.release(buf);
  }

  cases.forEach(({ s, bias, accumulate }, ci) => {
    it(`${label(s)}${bias ? ' +bias' : ''}${accumulate ? ' accumulate' : ''}`, async () => {
      await checkCase(s, bias, accumulate, 100 * ci);
    });
  });

  // The weight gradient has two paths (the direct kernel, and an explicit GEMM on im2col
  // chunks); each adapter's table picks one, so run every case under both.
  (['GEMM=1', 'GEMM=0'] as const).forEach((path) => {
    cases.forEach(({ s, bias, accumulate }, ci) => {
      it(`${path}: ${label(s)}${bias ? ' +bias' : ''}${accumulate ? ' accumulate' : ''}`, async () => {
        const saved = process.env.WGML_CONV_DW;
        process.env.WGML_CONV_DW = path;
        try {
          await checkCase(s, bias, accumulate, 100 * ci + 50);
        } finally {
          if (saved === undefined) delete process.env.WGML_CONV_DW;
          else process.env.WGML_CONV_DW = saved;
        }
      });
    });
  });

  // GEMM chunks built and multiplied a group at a time: 1 and 3 chunks per im2col group (the
  // last group short), chunks that cross images and a last chunk past N·Ho·Wo.
  (['GEMM=1,GROUP=1', 'GEMM=1,GROUP=3'] as const).forEach((setting, gi) => {
    const s: Conv2dShape = { N: 3, Ci: 5, H: 11, W: 13, Co: 6, KH: 3, KW: 3, stride: 1, pad: 1 };
    it(`weight-gradient GEMM groups ${setting}: ${label(s)} +bias${gi ? ' accumulate' : ''}`, async () => {
      const saved = process.env.WGML_CONV_DW;
      process.env.WGML_CONV_DW = setting;
      try {
        await checkCase(s, true, gi === 1, 1600);
      } finally {
        if (saved === undefined) delete process.env.WGML_CONV_DW;
        else process.env.WGML_CONV_DW = saved;
      }
    });
  });

  // The direct kernel with a single chunk and no bias writes dw itself (no reduce pass),
  // overwriting or accumulating; 7×7 stride 2 runs two phase dispatches into it.
  ([[false, 3], [true, 3], [true, 7]] as const).forEach(([accumulate, k], ci) => {
    const s: Conv2dShape = { N: 2, Ci: 3, H: 11, W: 13, Co: 5, KH: k, KW: k, stride: k === 7 ? 2 : 1, pad: k >> 1 };
    it(`weight gradient of one chunk straight into dw (RPC=64): ${label(s)}${accumulate ? ' accumulate' : ''}`, async () => {
      const saved = process.env.WGML_CONV_DW;
      process.env.WGML_CONV_DW = 'GEMM=0,RPC=64';
      try {
        await checkCase(s, false, accumulate, 1800 + ci);
      } finally {
        if (saved === undefined) delete process.env.WGML_CONV_DW;
        else process.env.WGML_CONV_DW = saved;
      }
    });
  });

  // A single GEMM chunk whose rows are dw's own (no bias, Ci·KH·KW a multiple of 4) is written
  // straight into dw, overwriting or accumulating; its one position pads the chunk to 4 rows.
  [false, true].forEach((accumulate) => {
    const s: Conv2dShape = { N: 1, Ci: 4, H: 3, W: 3, Co: 5, KH: 3, KW: 3, stride: 1, pad: 0 };
    it(`weight-gradient GEMM of one chunk into dw: ${label(s)}${accumulate ? ' accumulate' : ''}`, async () => {
      const saved = process.env.WGML_CONV_DW;
      process.env.WGML_CONV_DW = 'GEMM=1';
      try {
        await checkCase(s, false, accumulate, 1700);
      } finally {
        if (saved === undefined) delete process.env.WGML_CONV_DW;
        else process.env.WGML_CONV_DW = saved;
      }
    });
  });

  // Each adapter's table picks its own tiles; force the shapes no case above reaches on
  // SwiftShader (3 or 4 output-channel vec4s, 4 column vec4s, 3 or 4 rows, odd weight-gradient
  // tiles, stride-2 phases merged into one step or not) so every adapter's choice is covered.
  const forced: [string, string][] = [
    ['COTV=3,TWV=1,THO=3,MERGE=1', 'COT=1,CIT=3'],
    ['COTV=4,TWV=4,THO=1', 'COT=3,CIT=1'],
    ['COTV=4,TWV=1,THO=4,MERGE=0', 'COT=4,CIT=4'],
    ['COTV=1,TWV=2,THO=2', 'COT=2,CIT=4'],
    // The real-GPU table's tiles.
    ['COTV=1,TWV=1,THO=1,MERGE=1,SG=0', 'COT=2,CIT=2,SG=0,U=1,FLAT=0'],
    // Loads shared across a subgroup (forward: 1–4 weight vec4s per lane and step with 4 or
    // 8 lanes; weight gradient: 4, 2 and 1 loading lanes), and the own-load paths; the cases
    // above run each adapter's default (shared on lavapipe and SwiftShader).
    ['COTV=2,TWV=4,THO=1,SG=1', 'COT=4,CIT=2,SG=1'],
    ['COTV=2,TWV=2,THO=2,SG=1', 'COT=2,CIT=3,SG=1'],
    ['COTV=1,TWV=4,THO=1,SG=1', 'COT=1,CIT=4,SG=1'],
    ['COTV=2,TWV=4,THO=1,SG=0', 'COT=3,CIT=2,SG=0'],
    // Weight-gradient tiles of 5–8 output channels (lavapipe's default is 8 × 2), shared on
    // adapters whose table shares dy and whose subgroups have ≥ COT lanes, and own.
    ['COTV=2,TWV=4,THO=1', 'COT=8,CIT=2'],
    ['COTV=3,TWV=2,THO=2', 'COT=5,CIT=3'],
    ['COTV=2,TWV=4,THO=1,SG=0', 'COT=6,CIT=2,SG=0'],
    // 1, 2 and 4 dy columns per weight-gradient update (rows padded to 6 and 4, or 8 vec4s),
    // in one flat loop (both software tables) and in a row loop.
    ['COTV=2,TWV=4,THO=1', 'COT=4,CIT=4,U=4,FLAT=1'],
    ['COTV=2,TWV=2,THO=2', 'COT=2,CIT=3,U=2,FLAT=0'],
    ['COTV=2,TWV=4,THO=1', 'COT=8,CIT=2,U=4,FLAT=0'],
    ['COTV=1,TWV=4,THO=1', 'COT=3,CIT=1,U=4,SG=0,FLAT=1'],
    ['COTV=1,TWV=2,THO=2', 'COT=4,CIT=2,U=1,FLAT=1'],
    ['COTV=2,TWV=4,THO=1', 'COT=4,CIT=2,U=1,FLAT=0'],
  ];
  forced.forEach(([tile, dwTile], fi) => {
    const s: Conv2dShape = { N: 1, Ci: 6, H: 13, W: 19, Co: 13, KH: 3, KW: 3, stride: fi % 2 ? 1 : 2, pad: 1 };
    it(`forced tiles ${tile} / ${dwTile}: ${label(s)} +bias`, async () => {
      const saved = [process.env.WGML_CONV_FWD, process.env.WGML_CONV_DX, process.env.WGML_CONV_DW];
      process.env.WGML_CONV_FWD = tile;
      process.env.WGML_CONV_DX = tile;
      process.env.WGML_CONV_DW = dwTile;
      try {
        await checkCase(s, true, fi === 3, 1000 + fi);
      } finally {
        const names = ['WGML_CONV_FWD', 'WGML_CONV_DX', 'WGML_CONV_DW'] as const;
        names.forEach((k, i) => {
          if (saved[i] === undefined) delete process.env[k];
          else process.env[k] = saved[i];
        });
      }
    });
  });

  // Four reduction channels per step (CHT=1) in single-tap dispatches: 1×1 convs (forward over
  // Ci, input gradient over Co) and the single-tap stride phase (1,1) of a 3×3 stride-2 input
  // gradient; tiles of 1–4 channel vec4s, several rows, own and shared weight loads. In the 3×3
  // case the forward keeps one channel per step (three taps per kernel row) while the input
  // gradient's single-tap phase takes four of its Co = 8 channels; the others keep one.
  ([['CHT=1', 1, 2, 0, false], ['CHT=1,COTV=1,TWV=2,THO=2', 1, 1, 0, true], ['CHT=1,COTV=4,TWV=1,THO=4', 1, 2, 0, false],
    ['CHT=1,COTV=3,TWV=4,THO=1,SG=0', 1, 2, 0, true], ['CHT=1', 3, 2, 1, false], ['CHT=1,COTV=2,TWV=2,THO=2,SG=0', 3, 2, 1, true]] as const)
    .forEach(([tile, k, stride, pad, accumulate], ci) => {
      const s: Conv2dShape = { N: 2, Ci: k === 1 ? 12 : 6, H: 11, W: 21, Co: k === 1 ? 16 : 8, KH: k, KW: k, stride, pad };
      it(`four reduction channels per step ${tile}: ${label(s)}${accumulate ? ' accumulate' : ''}`, async () => {
        const saved = [process.env.WGML_CONV_FWD, process.env.WGML_CONV_DX];
        process.env.WGML_CONV_FWD = tile;
        process.env.WGML_CONV_DX = tile;
        try {
          await checkCase(s, false, accumulate, 1900 + ci);
        } finally {
          const names = ['WGML_CONV_FWD', 'WGML_CONV_DX'] as const;
          names.forEach((n, i) => {
            if (saved[i] === undefined) delete process.env[n];
            else process.env[n] = saved[i];
          });
        }
      });
    });

  // Weight-gradient chunks of 5 or 7 rows over 3 images of 11 rows: chunks start mid-image and
  // cross from one image to the next, which the flat loop tracks by counters.
  // Maps one dy vec4 wide take U rows per step (UROWS): 3 images of 8 rows in chunks of 4 or 8.
  // XKB=1 caps a chunk's x at 1 KiB: one row per chunk here (a stride-2 row of 5 channels is 2.5 KiB).
  ([['U=4,FLAT=1,RPC=7', 1, 11, 13], ['U=2,FLAT=1,RPC=5', 2, 11, 13], ['U=1,FLAT=0,RPC=7', 1, 11, 13], ['U=2,FLAT=1,XKB=1', 2, 11, 13],
    ['U=4,FLAT=1,UROWS=1,RPC=3', 1, 8, 4], ['U=2,FLAT=1,UROWS=1,RPC=6', 2, 8, 3], ['U=4,FLAT=1,UROWS=1', 2, 4, 2]] as const).forEach(([dwTile, stride, Ho, W]) => {
    const s: Conv2dShape = { N: 3, Ci: 5, H: Ho * stride, W: W * stride, Co: 6, KH: 3, KW: 3, stride, pad: 1 };
    it(`weight-gradient chunks across images ${dwTile}: ${label(s)} +bias`, async () => {
      const saved = process.env.WGML_CONV_DW;
      process.env.WGML_CONV_DW = dwTile;
      try {
        await checkCase(s, true, false, 1500);
      } finally {
        if (saved === undefined) delete process.env.WGML_CONV_DW;
        else process.env.WGML_CONV_DW = saved;
      }
    });
  });

  /** dw and db of one shape under each WGML_CONV_DW setting: all must be the bits of the first. */
  async function expectSameBits(s: Conv2dShape, settings: string[], seed: number): Promise<void> {
    const { Ho, Wo } = conv2dOutputSize(s);
    const X = rt.upload(uniform(s.N * s.Ci * s.H * s.W, seed), 'x');
    const G = rt.upload(uniform(s.N * s.Co * Ho * Wo, seed + 1), 'dy');
    const saved = process.env.WGML_CONV_DW;
    const out: Float32Array[] = [];
    try {
      for (const setting of settings) {
        process.env.WGML_CONV_DW = setting;
        const DW = rt.allocF32(s.Co * s.Ci * 9);
        const DB = rt.allocF32(s.Co);
        conv2dBackwardWeight(rt, X, G, DW, DB, s);
        out.push(await rt.readF32(DW), await rt.readF32(DB));
        rt.release(DW);
        rt.release(DB);
      }
    } finally {
      if (saved === undefined) delete process.env.WGML_CONV_DW;
      else process.env.WGML_CONV_DW = saved;
    }
    for (let i = 2; i < out.length; i++) expect(Array.from(out[i]!), `${settings[i >> 1]} ${i % 2 ? 'db' : 'dw'}`).toEqual(Array.from(out[i % 2]!));
    rt.release(X);
    rt.release(G);
  }

  it('dy columns per weight-gradient update (U) and the loop shape (FLAT) add the same terms in the same order: bits equal to U=1 nested', async () => {
    const settings = ['U=1,FLAT=0', 'U=2,FLAT=0', 'U=4,FLAT=0', 'U=1,FLAT=1', 'U=2,FLAT=1', 'U=4,FLAT=1'];
    await expectSameBits({ N: 2, Ci: 5, H: 11, W: 29, Co: 7, KH: 3, KW: 3, stride: 1, pad: 1 }, settings.map((t) => `${t},UROWS=0,RPC=7`), 71);
  });

  it('U rows per weight-gradient step (maps one dy vec4 wide) add the same terms in the same order: bits equal to U=1 nested', async () => {
    const settings = ['U=1,FLAT=0', 'U=1,FLAT=1,UROWS=0', 'U=2,FLAT=1,UROWS=1', 'U=4,FLAT=1,UROWS=1'];
    await expectSameBits({ N: 3, Ci: 5, H: 8, W: 4, Co: 7, KH: 3, KW: 3, stride: 1, pad: 1 }, settings.map((t) => `${t},RPC=8`), 73);
  });

  it('keeps pool memory flat over repeated calls (temporaries go back to the pool)', async () => {
    // The first case's shape and options, so no new pipelines are compiled.
    const s: Conv2dShape = { N: 1, Ci: 3, H: 9, W: 11, Co: 5, KH: 3, KW: 3, stride: 1, pad: 1 };
    const { Ho, Wo } = conv2dOutputSize(s);
    const X = rt.allocF32(s.N * s.Ci * s.H * s.W);
    const Wb = rt.allocF32(s.Co * s.Ci * 9);
    const B = rt.allocF32(s.Co);
    const Y = rt.allocF32(s.N * s.Co * Ho * Wo);
    const before = rt.pool.stats().bytesInUse;
    let allocated = 0;
    for (let step = 0; step < 3; step++) {
      conv2dForward(rt, X, Wb, B, Y, s);
      conv2dBackwardInput(rt, Y, Wb, X, s);
      conv2dBackwardWeight(rt, X, Y, Wb, B, s);
      await rt.finish();
      if (step === 1) allocated = rt.pool.stats().bytesAllocated;
    }
    expect(rt.pool.stats().bytesInUse).toBe(before);
    expect(rt.pool.stats().bytesAllocated).toBe(allocated);
    for (const buf of [X, Wb, B, Y]) rt.release(buf);
  });

  it('rejects bad shapes and short buffers with errors that name the op', () => {
    const A = rt.allocF32(16);
    const s: Conv2dShape = { N: 1, Ci: 1, H: 4, W: 4, Co: 1, KH: 3, KW: 3, stride: 1, pad: 0 };
    expect(() => conv2dForward(rt, A, A, null, A, { ...s, KH: 0 })).toThrow(/conv2dForward: KH must be a positive integer/);
    expect(() => conv2dForward(rt, A, A, null, A, { ...s, H: 2 })).toThrow(/conv2dForward: kernel 3x3 does not fit/);
    expect(() => conv2dBackwardInput(rt, A, A, A, { ...s, Ci: 2 })).toThrow(/conv2dBackwardInput: w holds 16 floats but \[1,2,3,3\] needs 18/);
    expect(() => conv2dBackwardWeight(rt, A, A, A, null, { ...s, pad: -1 })).toThrow(/conv2dBackwardWeight: padH must be a non-negative integer/);
    rt.release(A);
  });
});
