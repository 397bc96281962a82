// How the conv launchers choose shared (subgroup) or own loads, and the errors of forced tiles.
// Pure functions of the shape, the adapter's table and its subgroup size: no GPU needed.
import { describe, it, expect } from 'vitest';
import { chooseTile, planWeightGrad, planWeightGradGemm, reductionChannelsPerStep, tapGroups, useWeightGradGemm } from '../../src/kernels/conv2d_plan.js';
import { conv2dTiles, conv2dWeightGradConfig } from '../../src/kernels/tuning.js';
import type { Conv2dShape } from '../../src/kernels/conv2d_shape.js';

const s: Conv2dShape = { N: 2, Ci: 64, H: 14, W: 14, Co: 128, KH: 3, KW: 3, stride: 1, pad: 1 };
const lavapipe = conv2dWeightGradConfig('lavapipe');
const plan = (force: Record<string, number>, subgroupSize: number | null) =>
  planWeightGrad(lavapipe, s, 14, 14, 128 * 64 * 9, force, subgroupSize);

describe('conv2d plans: shared or own loads', () => {
  it("follows the adapter's table when the subgroup fits, and falls back to own loads quietly when it does not", () => {
    expect(plan({}, 8)).toMatchObject({ COT: 8, CIT: 2, SG: 8 });
    // 8 output channels need 8 loading lanes: a subgroup of 4 (or none) means own loads.
    expect(plan({}, 4).SG).toBe(0);
    expect(plan({}, null).SG).toBe(0);
    expect(plan({ COT: 4 }, 4).SG).toBe(4);
    expect(plan({ SG: 0 }, 8).SG).toBe(0);
    // The real-GPU rows keep own loads.
    expect(planWeightGrad(conv2dWeightGradConfig('gpu'), s, 14, 14, 1, {}, 32).SG).toBe(0);
    expect(chooseTile(conv2dTiles('lavapipe', 'forward'), 128, 14, 14, {}, 'f', 8).SG).toBe(8);
    expect(chooseTile(conv2dTiles('gpu', 'forward'), 128, 14, 14, {}, 'f', 32).SG).toBe(0);
  });

  it('takes the most dy columns per update that pads a row by at most 15%, unless U is forced', () => {
    const swiftshader = conv2dWeightGradConfig('swiftshader');
    const at = (Wo: number, force: Record<string, number> = {}) => {
      const p = planWeightGrad(swiftshader, { ...s, W: Wo }, 14, Wo, 1, force, null);
      return [p.U, p.WdvU];
    };
    expect(swiftshader.U).toBe(4);
    // Wo 7, 12, 16, 20, 28, 56 → Wdv 2, 3, 4, 5, 7, 14 (Wdv 1 takes rows, below).
    expect([7, 12, 16, 20, 28, 56].map((Wo) => at(Wo))).toEqual([[2, 2], [1, 3], [4, 4], [1, 5], [4, 8], [4, 16]]);
    expect(at(4, { U: 4, UROWS: 0 })).toEqual([4, 4]);
    // One dy vec4 per row: the units are rows, as many as divide the output height (flat loop).
    const rowsAt = (Ho: number) => {
      const p = planWeightGrad(swiftshader, { ...s, H: Ho, W: 4 }, Ho, 4, 1, {}, null);
      return [p.rowUnits, p.U, p.rowsPerChunk % p.U];
    };
    expect([4, 6, 7, 14].map(rowsAt)).toEqual([[true, 4, 0], [true, 2, 0], [false, 1, 0], [true, 2, 0]]);
    expect(planWeightGrad(swiftshader, { ...s, W: 4 }, 14, 4, 1, { FLAT: 0 }, null).rowUnits).toBe(false);
    expect(() => planWeightGrad(swiftshader, s, 14, 14, 1, { UROWS: 1 }, null)).toThrow(/UROWS=1 needs FLAT=1 and one dy vec4 per row, got 4/);
    expect(() => planWeightGrad(swiftshader, { ...s, W: 4 }, 14, 4, 1, { UROWS: 1, U: 4 }, null)).toThrow(/UROWS=1 needs U=4 to divide the output height 14/);
    // A forced U that does not divide Ho, with row units not forced, stays with (padded) columns.
    expect(planWeightGrad(swiftshader, { ...s, W: 4 }, 14, 4, 1, { U: 4 }, null)).toMatchObject({ rowUnits: false, U: 4, WdvU: 4 });
    expect(() => at(4, { U: 3 })).toThrow(/conv2dBackwardWeight: U=3 is not 1, 2 or 4/);
  });

  it("cuts the rows into chunks that read at most chunkXBytes of padded x, within the partial-sum cap", () => {
    // CIFAR stem layer4 at batch 16: 224 rows of 512 channels × 5 vec4s (14 wide, U = 2, +1 for taps).
    const l4: Conv2dShape = { N: 16, Ci: 512, H: 14, W: 14, Co: 512, KH: 3, KW: 3, stride: 1, pad: 1 };
    const nOut = 512 * 512 * 9;
    const rowBytes = 512 * 5 * 16;
    for (const kib of [2048, 4096]) {
      const p = planWeightGrad(lavapipe, l4, 14, 14, nOut, { XKB: kib }, 8);
      expect(p.Wp4).toBe(5);
      expect(p.rowsPerChunk * rowBytes).toBeLessThanOrEqual(kib * 1024);
      expect(p.chunks * p.rowsPerChunk).toBeGreaterThanOrEqual(224);
      expect((p.chunks - 1) * p.rowsPerChunk).toBeLessThan(224);
    }
    expect(planWeightGrad(lavapipe, l4, 14, 14, nOut, { XKB: 0 }, 8).chunks).toBe(1);
    // The table's 2 MiB: 51 rows fit, so 5 chunks of 45 rows.
    expect(lavapipe.chunkXBytes).toBe(2 << 20);
    expect(planWeightGrad(lavapipe, l4, 14, 14, nOut, {}, 8)).toMatchObject({ chunks: 5, rowsPerChunk: 45 });
    // Stride 2 reads 2 rows of 2 phases per output row; at most maxPartialFloats of partials.
    const s2: Conv2dShape = { ...l4, H: 28, W: 28, Ci: 256, stride: 2 };
    const p2 = planWeightGrad(lavapipe, s2, 14, 14, 512 * 256 * 9, {}, 8);
    expect(p2.rowsPerChunk * 256 * 2 * 2 * p2.Wp4 * 16).toBeLessThanOrEqual(2 << 20);
    // 1 MiB would want 9 chunks of 25 rows; the partial sums hold 7 (16 Mi floats / 2.36 M).
    expect(planWeightGrad(lavapipe, l4, 14, 14, nOut, { XKB: 1024 }, 8).chunks).toBe(Math.floor(lavapipe.maxPartialFloats / nOut));
    expect(planWeightGrad(lavapipe, l4, 14, 14, nOut, { XKB: 1 }, 8).chunks).toBe(7);
    expect(() => plan({ XKB: 1.5 }, 8)).toThrow(/conv2dBackwardWeight: XKB=1.5 is not a whole number of KiB ≥ 0/);
  });

  it('takes four reduction channels per forward step only for single-tap steps over a multiple of 4 channels', () => {
    const tile = chooseTile(conv2dTiles('lavapipe', 'forward'), 128, 14, 14, { CHT: 1 }, 'f', 8);
    const oneTap = tapGroups(1, 2, true);
    expect(oneTap).toMatchObject({ P: 1, TK: 1, TK1: 0, G: 1 });
    expect(reductionChannelsPerStep(tile, oneTap, 1, 64)).toBe(4);
    // Channels not a multiple of 4: the last step would read the next image's first channels.
    expect(reductionChannelsPerStep(tile, oneTap, 1, 66)).toBe(1);
    // More than one tap per step or per kernel column: the tap slots are taken.
    expect(reductionChannelsPerStep(tile, oneTap, 3, 64)).toBe(1);
    expect(reductionChannelsPerStep(tile, tapGroups(3, 2, true), 1, 64)).toBe(1);
    expect(reductionChannelsPerStep(tile, tapGroups(2, 1, false), 1, 64)).toBe(1);
    expect(reductionChannelsPerStep({ ...tile, channelTaps: false }, oneTap, 1, 64)).toBe(1);
    expect(chooseTile(conv2dTiles('lavapipe', 'forward'), 128, 14, 14, { CHT: 0 }, 'f', 8).channelTaps).toBe(false);
  });

  it('rejects forced tiles it cannot run, naming the op and the limit', () => {
    expect(() => plan({ COT: 9 }, 8)).toThrow(/conv2dBackwardWeight: tile COT=9 CIT=2 outside COT 1–8, CIT 1–4, COT·CIT ≤ 16/);
    expect(() => plan({ COT: 8, CIT: 3 }, 8)).toThrow(/COT·CIT ≤ 16/);
    expect(() => plan({ COT: 8, SG: 1 }, 4)).toThrow(/conv2dBackwardWeight: SG=1 needs a subgroup size ≥ 8 dividing the workgroup size 64, got 4/);
    expect(() => plan({ SG: 1 }, null)).toThrow(/SG=1 needs a device with the subgroups feature and a fixed subgroup size/);
    expect(() => chooseTile(conv2dTiles('lavapipe', 'forward'), 128, 14, 14, { SG: 1 }, 'conv2dForward', null)).toThrow(/conv2dForward: SG=1 needs a device/);
  });
});

describe('conv2d plans: the weight gradient as a GEMM', () => {
  const swiftshader = conv2dWeightGradConfig('swiftshader');

  it("takes the GEMM when forced, the direct kernel when one of its fields is forced, else the adapter's table for big enough convs", () => {
    expect(useWeightGradGemm(swiftshader, {}, s)).toBe(true);
    expect(useWeightGradGemm(lavapipe, {}, s)).toBe(false);
    expect(useWeightGradGemm(lavapipe, { GEMM: 1 }, s)).toBe(true);
    expect(useWeightGradGemm(swiftshader, { GEMM: 0 }, s)).toBe(false);
    expect(useWeightGradGemm(swiftshader, { U: 4 }, s)).toBe(false);
    expect(useWeightGradGemm(swiftshader, { COT: 4, GEMM: 1 }, s)).toBe(true);
    // Too few output channels, or too few weights per channel, for the GEMM to pay.
    expect(useWeightGradGemm(swiftshader, {}, { ...s, Co: 32 })).toBe(false);
    expect(useWeightGradGemm(swiftshader, {}, { ...s, Ci: 32, KH: 1, KW: 1 })).toBe(false);
    expect(useWeightGradGemm(swiftshader, {}, { ...s, Ci: 1, KH: 7, KW: 7 })).toBe(true);
    expect(useWeightGradGemm(swiftshader, { GEMM: 1 }, { ...s, Co: 8 })).toBe(true);
  });

  it('cuts N·Ho·Wo into chunks of at most laneTerms positions, a multiple of 4, enough for every core', () => {
    const shapes: [Conv2dShape, number, number][] = [
      [{ N: 16, Ci: 64, H: 28, W: 28, Co: 64, KH: 3, KW: 3, stride: 1, pad: 1 }, 28, 28],
      [{ N: 16, Ci: 512, H: 4, W: 4, Co: 512, KH: 3, KW: 3, stride: 1, pad: 1 }, 4, 4],
      [{ N: 3, Ci: 1, H: 112, W: 112, Co: 64, KH: 7, KW: 7, stride: 2, pad: 3 }, 56, 56],
      [{ N: 1, Ci: 5, H: 3, W: 3, Co: 3, KH: 1, KW: 1, stride: 1, pad: 0 }, 3, 3],
    ];
    for (const [sh, Ho, Wo] of shapes) {
      for (const bias of [false, true]) {
        const p = planWeightGradGemm(swiftshader, sh, Ho, Wo, bias, 16, 16, 1 << 30);
        const M = sh.N * Ho * Wo;
        const K = sh.Ci * sh.KH * sh.KW;
        expect(p.L % 4, 'L a multiple of 4').toBe(0);
        expect(p.L).toBeLessThanOrEqual(swiftshader.laneTerms);
        expect(p.chunks * p.L).toBeGreaterThanOrEqual(M);
        expect((p.chunks - 1) * p.L).toBeLessThan(M);
        expect(p.NK % 4).toBe(0);
        expect(p.NK).toBeGreaterThanOrEqual(K + (bias ? 1 : 0));
        expect(p.NK).toBeLessThan(K + (bias ? 1 : 0) + 4);
        // Fewer tiles than minThreads: more chunks, until a chunk is 4 positions.
        const tiles = Math.ceil(sh.Co / 16) * Math.ceil(p.NK / 16);
        expect(p.chunks * tiles >= swiftshader.minThreads || p.L === 4).toBe(true);
        expect(p.groupChunks * p.L * p.NK * 4).toBeLessThanOrEqual(swiftshader.gemmColBytes);
      }
    }
  });

  it('builds im2col a group of chunks at a time within the byte cap, and refuses a chunk past the binding limit', () => {
    const sh: Conv2dShape = { N: 16, Ci: 64, H: 112, W: 112, Co: 64, KH: 3, KW: 3, stride: 1, pad: 1 };
    const p = planWeightGradGemm(swiftshader, sh, 112, 112, false, 16, 16, 1 << 30);
    expect(p.groupChunks).toBeLessThan(p.chunks);
    expect(p.groupChunks).toBe(Math.floor(swiftshader.gemmColBytes / (p.L * p.NK * 4)));
    expect(planWeightGradGemm(swiftshader, sh, 112, 112, false, 16, 16, 1 << 30, { GROUP: 2 }).groupChunks).toBe(2);
    expect(() => planWeightGradGemm(swiftshader, sh, 112, 112, false, 16, 16, 1 << 20)).toThrow(/conv2dBackwardWeight: one GEMM chunk's im2col matrix \(\d+×576 floats\) exceeds the device's 1048576-byte storage binding; use GEMM=0/);
  });
});
