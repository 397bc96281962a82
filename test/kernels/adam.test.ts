import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { adam, adamGrid, adamScalars, ADAM_WORKGROUP_SIZE, type AdamHyper } from '../../src/kernels/adam.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { adamRefStep, type AdamRefHyper } from '../reference/adam.js';

// Tolerances. Every quantity is a handful of f32 operations per step on O(1) values, so each
// step adds a few ulp (~1e-7 relative) to p, m and v, and the f32-rounded hyperparameters
// (0.001 is not exact in f32) shift v by ~5e-8 relative. Over 5 steps that is < 1e-6 relative;
// rtol 1e-5 keeps a 10× margin. m is a signed sum of gradients (|g| ≤ 1) that can cancel to
// near 0, so its error is absolute, ~2^-24·max|g| per step: atol 1e-7 over ≤ 5 steps. v sums
// squares (no cancellation), so only zero-gradient elements need its tiny atol. p's atol is a
// few ulp of |p| ≤ 2. A wrong β, bias correction or step count changes p by ~lr·O(1) =
// 1e-3…1e-2 and m by ~0.1·|g|, far outside these bounds.
const TOL_P = { rtol: 1e-5, atol: 1e-6 };
const TOL_M = { rtol: 1e-5, atol: 1e-7 };
const TOL_V = { rtol: 1e-5, atol: 1e-12 };

function fullHyper(h: AdamHyper): AdamRefHyper {
  return { lr: h.lr, beta1: h.beta1 ?? 0.9, beta2: h.beta2 ?? 0.999, eps: h.eps ?? 1e-8, weightDecay: h.weightDecay ?? 0, decoupled: !!h.decoupled };
}

describe('adam float64 reference', () => {
  // Printed by PyTorch 1.13 (float64 tensors) after three steps with these gradients.
  const p0 = [0.5, -1.25, 2.0, 0.0, 3.0];
  const grads = [[0.1, -0.2, 0.3, 1e-9, -4.0], [0.05, 0.4, -0.3, 0.0, 2.0], [-0.2, 0.1, 0.0, 1e-3, 0.5]];
  const cases: [string, AdamRefHyper, number[], number[], number[]][] = [
    ['Adam lr 0.01, weight_decay 0.1 (L2)', { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false },
      [0.47871590872889314, -1.2391307839193157, 1.9789188295429065, 0.0004682945463305452, 3.011938306683329],
      [0.005863080338131446, -0.0038821195263349997, 0.051259063109149794, 0.00015712872814031202, -0.012492419789799581],
      [5.5340858252351866e-05, 0.00018208829780905856, 0.0002990895796199198, 2.7410111928500305e-09, 0.019593822754865285]],
    ['AdamW lr 0.01, betas (0.8, 0.99), eps 1e-6, weight_decay 0.1', { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: true },
      [0.48234718174116237, -1.2450060574427142, 1.9859411545557804, -0.0070653655891734606, 3.003826744425725],
      [-0.019199999999999995, 0.058399999999999994, -0.009599999999999997, 0.00020000012799999996, -0.09200000000000003],
      [0.0005227600000000005, 0.0020760400000000025, 0.0017730900000000015, 1.000000000000981e-08, 0.19891600000000018]],
    ['Adam defaults, lr 1e-3 (the BackMix setting)', { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
      [0.4982741775907225, -1.2497817547496382, 1.9990933159719337, -0.0007739530484905423, 3.0013998968185964],
      [-0.007399999999999999, 0.029799999999999993, -0.0026999999999999997, 0.00010000008099999998, -0.094],
      [5.2477510000000055e-05, 0.00020976004000000022, 0.00017973009000000014, 1.000000000000999e-09, 0.02021401600000002]],
  ];
  for (const [name, h, wantP, wantM, wantV] of cases) {
    it(`matches torch.optim ${name} over 3 steps`, () => {
      const p = Float64Array.from(p0);
      const m = new Float64Array(5);
      const v = new Float64Array(5);
      grads.forEach((g, t) => adamRefStep(p, g, m, v, h, t + 1));
      const exact = { rtol: 1e-12, atol: 1e-18 };
      expectClose(p, wantP, exact, 'param');
      expectClose(m, wantM, exact, 'exp_avg');
      expectClose(v, wantV, exact, 'exp_avg_sq');
    });
  }
});

describe('adam grid arithmetic', () => {
  it('covers every element with at most 65535 workgroups per dimension, even past 2^31 elements', () => {
    for (const n of [1, 7, 128 * 65535, 128 * 65535 + 1, 4 * 128 * 65535 + 5, 3_000_000_001]) {
      for (const vec4 of [false, true]) {
        const { threads, workgroups: [x, y] } = adamGrid(n, vec4);
        expect(threads).toBe(vec4 ? Math.ceil(n / 4) : n);
        expect(x).toBeLessThanOrEqual(65535);
        expect(y).toBeLessThanOrEqual(65535);
        // The shader's flat index gid.x + gid.y·x·WG reaches threads − 1 ...
        expect(x * y * ADAM_WORKGROUP_SIZE).toBeGreaterThanOrEqual(threads);
        // ... and wastes less than one row of workgroups.
        expect(x * (y - 1) * ADAM_WORKGROUP_SIZE).toBeLessThan(threads);
      }
    }
  });

  it('computes bias corrections in float64 (β2^t for t = 10^5 still distinguishes 1 − β2^t)', () => {
    const s = adamScalars({ lr: 1e-3 }, 100_000);
    expect(s.stepSize).toBeCloseTo(1e-3, 15);
    expect(s.sqrtBc2).toBeCloseTo(Math.sqrt(1 - 0.999 ** 100_000), 15);
    const first = adamScalars({ lr: 1e-3, beta1: 0.9 }, 1);
    expect(first.stepSize).toBeCloseTo(1e-3 / 0.1, 12);
  });
});

describe('adam (GPU vs float64 reference)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await gpuRuntime();
  });

  /** Runs `steps` updates on the GPU and in float64; gradients change every step. */
  async function compare(n: number, h: AdamHyper, steps: number, extra: { vec4?: boolean; maxWorkgroupsPerDim?: number } = {}): Promise<void> {
    const p0 = uniform(n, n + 1, -2, 2);
    const P = rt.upload(p0);
    const M = rt.upload(new Float32Array(n));
    const V = rt.upload(new Float32Array(n));
    const p = Float64Array.from(p0);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const hr = fullHyper(h);
    for (let t = 1; t <= steps; t++) {
      const g = uniform(n, 1000 * t + n, -1, 1);
      for (let i = 0; i < n; i += 5) g[i] = 0; // zero gradients: the 0/(0 + eps) path
      const G = rt.upload(g);
      adam(rt, P, G, M, V, { n, step: t, ...h, ...extra });
      rt.release(G);
      adamRefStep(p, g, m, v, hr, t);
    }
    expectClose(await rt.readF32(P, n), p, TOL_P, 'param');
    expectClose(await rt.readF32(M, n), m, TOL_M, 'exp_avg');
    expectClose(await rt.readF32(V, n), v, TOL_V, 'exp_avg_sq');
    for (const b of [P, M, V]) rt.release(b);
  }

  for (const n of [1, 7, 4099]) {
    it(`Adam lr 1e-3, 5 steps, n=${n} (vec4 entry)`, async () => {
      await compare(n, { lr: 1e-3 }, 5);
    });
  }
  it('Adam, scalar entry point, n=7', async () => {
    await compare(7, { lr: 1e-2, beta1: 0.8 }, 4, { vec4: false });
  });
  it('Adam with L2 weight_decay 0.1, n=70001', async () => {
    await compare(70001, { lr: 1e-2, weightDecay: 0.1 }, 3);
  });
  it('AdamW (decoupled weight decay 0.1), betas (0.8, 0.99), eps 1e-6, n=1001', async () => {
    await compare(1001, { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: true }, 4);
  });
  it('2-D grid (3 workgroups per dimension forced) reaches every element, both entry points', async () => {
    await compare(4099, { lr: 1e-3 }, 2, { maxWorkgroupsPerDim: 3 }); // vec4: 9 groups as 3×3
    await compare(1001, { lr: 1e-3 }, 2, { maxWorkgroupsPerDim: 3, vec4: false }); // 8 groups as 3×3 (one idle)
  });

  it('updates only [offset, offset + n) of a packed buffer and leaves the vec4 padding alone', async () => {
    const total = 40;
    const p0 = uniform(total, 9, -1, 1);
    const g = uniform(total, 10, -1, 1);
    const m0 = uniform(total, 11, -0.1, 0.1);
    const v0 = uniform(total, 12, 0, 0.01);
    const h = { lr: 0.05, weightDecay: 0.01 };
    for (const [offset, n, vec4] of [[8, 13, true], [5, 14, false]] as const) {
      const [P, G, M, V] = [p0, g, m0, v0].map((a) => rt.upload(a));
      adam(rt, P!, G!, M!, V!, { n, offset, step: 3, ...h, vec4 });
      const p = Float64Array.from(p0);
      const m = Float64Array.from(m0);
      const v = Float64Array.from(v0);
      adamRefStep(p.subarray(offset, offset + n), g.subarray(offset, offset + n), m.subarray(offset, offset + n), v.subarray(offset, offset + n), fullHyper(h), 3);
      // Outside the range the reference equals the initial values, so this also checks that
      // elements offset+n … offset+4·ceil(n/4) (vec4 padding lanes) are written back unchanged.
      expectClose(await rt.readF32(P!, total), p, TOL_P, `param (offset ${offset}, n ${n})`);
      expectClose(await rt.readF32(M!, total), m, TOL_M, `exp_avg (offset ${offset}, n ${n})`);
      expectClose(await rt.readF32(V!, total), v, TOL_V, `exp_avg_sq (offset ${offset}, n ${n})`);
      for (const b of [P, G, M, V]) rt.release(b!);
    }
  });

  it('rejects invalid hyperparameters, steps, sizes and aliasing with clear errors', () => {
    const a = rt.allocF32(8);
    const b = rt.allocF32(8);
    const c = rt.allocF32(8);
    const d = rt.allocF32(4);
    expect(() => adam(rt, a, b, c, d, { n: 4, step: 0, lr: 1e-3 })).toThrow(/adam: step must be an integer ≥ 1/);
    expect(() => adam(rt, a, b, c, d, { n: 4, step: 1, lr: -1 })).toThrow(/adam: invalid learning rate/);
    expect(() => adam(rt, a, b, c, d, { n: 4, step: 1, lr: 1e-3, beta2: 1 })).toThrow(/invalid beta2/);
    expect(() => adam(rt, a, b, c, d, { n: 8, step: 1, lr: 1e-3 })).toThrow(/adam: v holds 4 elements but offset 0 \+ n 8 needs 8/);
    expect(() => adam(rt, a, b, a, d, { n: 4, step: 1, lr: 1e-3 })).toThrow(/four distinct buffers/);
    expect(() => adam(rt, a, b, c, d, { n: 2, offset: 1, step: 1, lr: 1e-3, vec4: true })).toThrow(/vec4 needs offset % 4 == 0/);
    for (const x of [a, b, c, d]) rt.release(x);
  });
});
