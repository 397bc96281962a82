import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { matmul } from '../../src/kernels/matmul.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { matmulRef } from '../reference/matmul.js';

// f32 accumulation over K terms of magnitude ≤ 1 has error ~ K·2^-24·|terms|; with K ≤ 300
// that is < 2e-5 absolute, so atol 1e-4 + rtol 1e-4 leaves a safe margin without hiding bugs
// (a wrong index gives O(1) errors).
const TOL = { rtol: 1e-4, atol: 1e-4 };

describe('matmul (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 3],
    [5, 1, 9],
    [13, 17, 19],
    [33, 9, 65],
    [64, 64, 64],
    [70, 37, 300],
  ];
  for (const [M, N, K] of shapes) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`M=${M} N=${N} K=${K} transA=${tA} transB=${tB}`, async () => {
        const a = uniform(M * K, M * 1000 + K + (tA ? 1 : 0));
        const b = uniform(K * N, N * 1000 + K + (tB ? 2 : 0));
        const A = rt.upload(a);
        const B = rt.upload(b);
        const C = rt.allocF32(M * N);
        matmul(rt, A, B, C, { M, N, K, transA: tA, transB: tB });
        const got = await rt.readF32(C, M * N);
        expectClose(got, matmulRef(a, b, M, N, K, tA, tB), TOL, 'C');
        for (const buf of [A, B, C]) rt.release(buf);
      });
    }
  }

  it('accumulates C = alpha·AB + beta·C and handles batches with strides', async () => {
    const [M, N, K, batch] = [6, 5, 11, 3];
    const a = uniform(batch * M * K, 1);
    const b = uniform(batch * K * N, 2);
    const c0 = uniform(batch * M * N, 3);
    const A = rt.upload(a);
    const B = rt.upload(b);
    const C = rt.upload(c0);
    matmul(rt, A, B, C, { M, N, K, batch, accumulate: true, alpha: 0.5, beta: -2 });
    const got = await rt.readF32(C, batch * M * N);
    for (let i = 0; i < batch; i++) {
      const want = matmulRef(
        a.subarray(i * M * K), b.subarray(i * K * N), M, N, K, false, false, 0.5, -2, c0.subarray(i * M * N),
      );
      expectClose(got.subarray(i * M * N, (i + 1) * M * N), want, TOL, `C[batch ${i}]`);
    }
    for (const buf of [A, B, C]) rt.release(buf);
  });

  // Offsets place batch matrix 0 of A and C inside bigger buffers; C outside the written
  // range must keep its old values. Sizes of 4 take the vec4 entry, 5 and 3 the scalar one.
  ([[4, 8, 12, 8, 16], [5, 3, 7, 3, 5]] as const).forEach(([M, N, K, offA, offC]) => {
    it(`reads A and writes C from element offsets (M=${M} N=${N} K=${K}, offsets ${offA}/${offC})`, async () => {
      const batch = 2;
      const a = uniform(offA + batch * M * K, 11);
      const b = uniform(batch * K * N, 12);
      const total = offC + batch * M * N + 4;
      const c0 = uniform(total, 13);
      const A = rt.upload(a);
      const B = rt.upload(b);
      const C = rt.upload(c0);
      matmul(rt, A, B, C, { M, N, K, batch, offsetA: offA, offsetC: offC });
      const got = await rt.readF32(C, total);
      for (let i = 0; i < batch; i++) {
        const want = matmulRef(a.subarray(offA + i * M * K), b.subarray(i * K * N), M, N, K, false, false);
        expectClose(got.subarray(offC + i * M * N, offC + (i + 1) * M * N), want, TOL, `C[batch ${i}]`);
      }
      expect(Array.from(got.subarray(0, offC)), 'C before offsetC').toEqual(Array.from(c0.subarray(0, offC)));
      expect(Array.from(got.subarray(offC + batch * M * N)), 'C after the last batch').toEqual(Array.from(c0.subarray(offC + batch * M * N)));
      for (const buf of [A, B, C]) rt.release(buf);
    });
  });

  it('rejects non-positive sizes with a clear error', () => {
    const A = rt.allocF32(4);
    expect(() => matmul(rt, A, A, A, { M: 0, N: 2, K: 2 })).toThrow(/M must be a positive integer/);
    expect(() => matmul(rt, A, A, A, { M: 2, N: 2, K: 2, offsetC: -4 })).toThrow(/matmul: offsetC must be a non-negative integer, got -4/);
    rt.release(A);
  });
});
