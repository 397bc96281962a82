// Tensor memory (scopes, views, retain/release), the tape's gradient bookkeeping (accumulation
// over several consumers, zeroGrad, noGrad, freeing saved activations), and a gradient check of
// a chained graph conv → bn → relu → maxpool → gap → linear → weighted CE against central finite
// differences of the float64 reference graph.
import { describe, it, expect, beforeAll } from 'vitest';
import type { Runtime } from '../../src/kernels/runtime.js';
import { Tensor, scope } from '../../src/nn/tensor.js';
import { Tape, noGrad } from '../../src/nn/tape.js';
import { Module } from '../../src/nn/module.js';
import { InitRng } from '../../src/nn/init.js';
import { Conv2d } from '../../src/nn/layers/conv2d.js';
import { BatchNorm2d } from '../../src/nn/layers/batchnorm2d.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { conv2d } from '../../src/nn/ops/conv2d.js';
import { batchNorm2d } from '../../src/nn/ops/batchnorm.js';
import { relu } from '../../src/nn/ops/relu.js';
import { add } from '../../src/nn/ops/add.js';
import { maxPool2d, globalAvgPool } from '../../src/nn/ops/pool.js';
import { linear } from '../../src/nn/ops/linear.js';
import { crossEntropyLoss } from '../../src/nn/ops/cross_entropy.js';
import { fill } from '../../src/kernels/elementwise.js';
import { gpuRuntime } from '../helpers/gpu.js';
import { uniform } from '../helpers/random.js';
import { expectClose } from '../helpers/compare.js';
import { numericalGrad } from '../helpers/finite_diff.js';
import { RefGraph, RefValue } from '../reference/resnet18.js';
import { bnStatsRef, type Shape4 } from '../reference/batchnorm.js';
import { expectScaledClose } from './nn_test_utils.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await gpuRuntime();
});

/** Pool bytes held by callers once every submitted command has finished. */
async function inUse(): Promise<number> {
  await rt.finish();
  return rt.pool.stats().bytesInUse;
}

function leaf(data: Float32Array, shape: number[], label: string): Tensor {
  const t = Tensor.fromArray(rt, data, shape, label).keep();
  t.requiresGrad = true;
  return t;
}

function disposeWithGrad(...ts: Tensor[]): void {
  for (const t of ts) {
    t.grad?.dispose();
    t.grad = null;
    t.dispose();
  }
}

describe('Tensor memory', () => {
  it('scope frees what was created inside and keeps what it returns (also nested, and keep())', async () => {
    const base = await inUse();
    let a!: Tensor;
    let b!: Tensor;
    let kept!: Tensor;
    let innerTmp!: Tensor;
    const c = await scope(async () => {
      a = Tensor.fromArray(rt, uniform(600, 1), [600], 'a');
      b = relu(a);
      kept = relu(b).keep();
      const fromInner = await scope(() => {
        innerTmp = relu(b);
        return { out: relu(innerTmp) };
      });
      expect(innerTmp.disposed).toBe(true);
      expect(fromInner.out.disposed).toBe(false);
      return relu(fromInner.out.view([20, 30]));
    });
    expect(a.disposed && b.disposed).toBe(true);
    expect(c.disposed || kept.disposed).toBe(false);
    // Only c (and the inner result it views, which the outer scope dropped) and `kept` remain.
    expect(await inUse()).toBe(base + c.buffer.buffer.size + kept.buffer.buffer.size);
    expect(() => a.buffer).toThrow(/used after dispose/);
    const want = (await a.toArray().catch((e: Error) => e)) as Error;
    expect(want).toBeInstanceOf(Error);
    c.dispose();
    kept.dispose();
    expect(await inUse()).toBe(base);
  });

  it('scope frees what was created inside when its function throws', async () => {
    const base = await inUse();
    let t!: Tensor;
    await expect(
      scope(() => {
        t = relu(Tensor.fromArray(rt, uniform(300, 2), [300], 'x'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(t.disposed).toBe(true);
    expect(await inUse()).toBe(base);
  });

  it('views share storage: writes show through, the buffer lives until the last holder lets go', async () => {
    const base = await inUse();
    const t = Tensor.fromArray(rt, Float32Array.from({ length: 12 }, (_, i) => i), [3, 4], 't');
    const v = t.view([2, 2, 3], 'v');
    expect(v.buffer).toBe(t.buffer);
    expect(v.shape).toEqual([2, 2, 3]);
    expect(() => t.view([5, 2])).toThrow(/cannot view \[3,4\] as \[5,2\]/);
    fill(rt, 12, t.buffer, 2.5);
    expect(Array.from(await v.toArray())).toEqual(new Array(12).fill(2.5));
    const held = await inUse();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(await inUse()).toBe(held); // the view still holds the storage
    expect(Array.from(await v.toArray())).toEqual(new Array(12).fill(2.5));
    v.dispose();
    expect(await inUse()).toBe(base);
    // A view and its base disposed by one scope release the storage once (no double free).
    await scope(() => {
      const u = Tensor.fromArray(rt, new Float32Array(8), [8], 'u');
      u.view([2, 4]);
      u.view([4, 2]);
    });
    expect(await inUse()).toBe(base);
  });

  it('retain keeps a disposed tensor alive for a saved-for-backward holder', async () => {
    const base = await inUse();
    const t = Tensor.fromArray(rt, Float32Array.of(1, 2, 3), [3], 't').keep();
    t.retain();
    t.dispose();
    t.dispose(); // the creator's handle drops once
    expect(t.disposed).toBe(false);
    expect(Array.from(await t.toArray())).toEqual([1, 2, 3]);
    t.release();
    expect(t.disposed).toBe(true);
    expect(() => t.retain()).toThrow(/retained after dispose/);
    expect(await inUse()).toBe(base);
  });
});

describe('Tape', () => {
  it('sums the gradients of a tensor that feeds several consumers (every accumulation path) — vs the float64 graph', async () => {
    // y = (conv(x; w, b) + bn(x)) + (relu(x) + x). Backward reaches x four times, through each way a
    // contribution can land: a fresh buffer (add), the tmp+add path of a kernel that cannot
    // accumulate (relu; BN's dx), and a kernel accumulating in place (conv's dx).
    const shape = [2, 3, 5, 5];
    const n = 150;
    const x = leaf(uniform(n, 10), shape, 'x');
    const w = leaf(uniform(81, 11, -0.3, 0.3), [3, 3, 3, 3], 'w');
    const gamma = leaf(uniform(3, 12, 0.5, 1.5), [3], 'gamma');
    const beta = leaf(uniform(3, 13), [3], 'beta');
    const cb = leaf(uniform(3, 15), [3], 'conv.bias');
    const dy = uniform(n, 14);
    const base = await inUse();
    const got = await scope(async () => {
      const rm = Tensor.fromArray(rt, new Float32Array(3), [3], 'rm');
      const rv = Tensor.fromArray(rt, new Float32Array(3).fill(1), [3], 'rv');
      const tape = new Tape().start();
      const y = add(add(conv2d(x, w, cb, { stride: 1, pad: 1 }), batchNorm2d(x, gamma, beta, rm, rv, { training: true })), add(relu(x), x));
      expect(tape.nodes.map((nd) => nd.label)).toEqual(['conv2d', 'batchnorm', 'add', 'relu', 'add', 'add']);
      y.grad = Tensor.fromArray(rt, dy, shape, 'dy');
      tape.backward();
      expect(tape.nodes.length).toBe(0);
      return { dx: await x.grad!.toArray(), dw: await w.grad!.toArray(), dcb: await cb.grad!.toArray(), dg: await gamma.grad!.toArray(), db: await beta.grad!.toArray() };
    });
    const g = new RefGraph();
    const [rx, rw, rcb, rg, rb] = [
      RefValue.of(await x.toArray(), shape), RefValue.of(await w.toArray(), [3, 3, 3, 3]), RefValue.of(await cb.toArray(), [3]),
      RefValue.of(await gamma.toArray(), [3]), RefValue.of(await beta.toArray(), [3]),
    ];
    const ry = g.add(g.add(g.conv2d(rx, rw, 1, 1, rcb), g.batchNorm(rx, rg, rb, { training: true })), g.add(g.relu(rx), rx));
    ry.addGrad(dy);
    g.backward();
    // One layer of f32 sums (≤ 27 conv taps, 50-element BN reductions): 1e-5 of scale is ~10× the rounding.
    expectScaledClose(got.dx, rx.grad!, 1e-5, 'dx');
    expectScaledClose(got.dw, rw.grad!, 1e-5, 'dw');
    expectScaledClose(got.dcb, rcb.grad!, 1e-5, 'dconv.bias');
    expectScaledClose(got.dg, rg.grad!, 1e-5, 'dgamma');
    expectScaledClose(got.db, rb.grad!, 1e-5, 'dbeta');
    // Every intermediate gradient and activation is gone; only the leaves' gradients remain.
    expect(await inUse()).toBe(base + [x, w, cb, gamma, beta].reduce((s, t) => s + t.grad!.buffer.buffer.size, 0));
    disposeWithGrad(x, w, cb, gamma, beta);
  });

  it('sums gradients through pools and linear layers used twice (their accumulate modes) — vs the float64 graph', async () => {
    // h feeds gap, maxpool and gap again: backward reaches h first through the last gap (fresh),
    // then the max-pool and the first gap add in place. c feeds the same linear layer twice, so
    // linear's dx, dW and db accumulate too.
    const hShape = [2, 3, 6, 6];
    const h = leaf(uniform(216, 60), hShape, 'h');
    const W = leaf(uniform(12, 61), [4, 3], 'W');
    const b = leaf(uniform(4, 62), [4], 'b');
    const dy = uniform(8, 63);
    const got = await scope(async () => {
      const tape = new Tape().start();
      const g1 = globalAvgPool(h);
      const m = maxPool2d(h, { kernel: 3, stride: 2, pad: 1 });
      const g2 = globalAvgPool(h);
      const c = add(add(g1, g2), globalAvgPool(m));
      const y = add(linear(c, W, b), linear(c, W, b));
      y.grad = Tensor.fromArray(rt, dy, [2, 4], 'dy');
      tape.backward();
      return { dh: await h.grad!.toArray(), dW: await W.grad!.toArray(), db: await b.grad!.toArray() };
    });
    const g = new RefGraph();
    const [rh, rW, rb] = [RefValue.of(await h.toArray(), hShape), RefValue.of(await W.toArray(), [4, 3]), RefValue.of(await b.toArray(), [4])];
    const rc = g.add(g.add(g.globalAvgPool(rh), g.globalAvgPool(rh)), g.globalAvgPool(g.maxPool2d(rh, 3, 2, 1)));
    g.add(g.linear(rc, rW, rb), g.linear(rc, rW, rb)).addGrad(dy);
    g.backward();
    expectScaledClose(got.dh, rh.grad!, 1e-5, 'dh');
    expectScaledClose(got.dW, rW.grad!, 1e-5, 'dW');
    expectScaledClose(got.db, rb.grad!, 1e-5, 'db');
    disposeWithGrad(h, W, b);
  });

  it('fused relu(bn(x)) and relu(bn(x) + r) — the BasicBlock tails — match the float64 graph, r\'s gradient accumulating', async () => {
    // z = relu(bn(x) + r) + r + relu(bn(x)) on an odd shape: backward reaches r first through
    // the outer add (fresh), then the fused kernel adds its dy·[z > 0] in place (its
    // accumulateResidual mode); x gets dx from both fused ops (BN's dx cannot accumulate: tmp path).
    const shape = [3, 5, 7, 9];
    const n = 3 * 5 * 7 * 9;
    const x = leaf(uniform(n, 70), shape, 'x');
    const r = leaf(uniform(n, 71), shape, 'r');
    const gamma = leaf(uniform(5, 72, 0.5, 1.5), [5], 'gamma');
    const beta = leaf(uniform(5, 73), [5], 'beta');
    const dy = uniform(n, 74);
    const got = await scope(async () => {
      const stats = () => [Tensor.fromArray(rt, new Float32Array(5), [5], 'rm'), Tensor.fromArray(rt, new Float32Array(5).fill(1), [5], 'rv')] as const;
      const [rm1, rv1] = stats();
      const [rm2, rv2] = stats();
      const tape = new Tape().start();
      const a = batchNorm2d(x, gamma, beta, rm1, rv1, { training: true, relu: true, residual: r });
      const b = batchNorm2d(x, gamma, beta, rm2, rv2, { training: true, relu: true });
      const z = add(add(a, r), b);
      z.grad = Tensor.fromArray(rt, dy, shape, 'dy');
      tape.backward();
      return {
        a: await a.toArray(), b: await b.toArray(), rv: await rv1.toArray(),
        dx: await x.grad!.toArray(), dr: await r.grad!.toArray(), dg: await gamma.grad!.toArray(), db: await beta.grad!.toArray(),
      };
    });
    const g = new RefGraph();
    const [rx, rr, rg, rb] = [RefValue.of(await x.toArray(), shape), RefValue.of(await r.toArray(), shape), RefValue.of(await gamma.toArray(), [5]), RefValue.of(await beta.toArray(), [5])];
    const ra = g.relu(g.add(g.batchNorm(rx, rg, rb, { training: true }), rr));
    const rbn = g.relu(g.batchNorm(rx, rg, rb, { training: true }));
    g.add(g.add(ra, rr), rbn).addGrad(dy);
    g.backward();
    // f32 BN over 189-element channel reductions, then one add: 1e-5 of scale is ~10× the rounding.
    expectScaledClose(got.a, ra.data, 1e-5, 'relu(bn(x) + r)');
    expectScaledClose(got.b, rbn.data, 1e-5, 'relu(bn(x))');
    expectScaledClose(got.dx, rx.grad!, 1e-5, 'dx');
    expectScaledClose(got.dr, rr.grad!, 1e-5, 'dr');
    expectScaledClose(got.dg, rg.grad!, 1e-5, 'dgamma');
    expectScaledClose(got.db, rb.grad!, 1e-5, 'dbeta');
    // The running variance is updated by the fused forward exactly as by plain BN (unbiased batch variance).
    const v = bnStatsRef(await x.toArray(), shape as unknown as Shape4).varBiased;
    expectClose(got.rv, Float64Array.from(v, (vb) => 0.9 + 0.1 * vb * (189 / 188)), { rtol: 1e-5, atol: 1e-6 }, 'running_var');
    disposeWithGrad(x, r, gamma, beta);
  });

  it('add(x, x) gives 2·dy', async () => {
    const x = leaf(uniform(10, 20), [10], 'x');
    const dy = uniform(10, 21);
    await scope(async () => {
      const tape = new Tape().start();
      const y = add(x, x);
      y.grad = Tensor.fromArray(rt, dy, [10], 'dy');
      tape.backward();
    });
    expectClose(await x.grad!.toArray(), dy.map((v) => 2 * v), { rtol: 0, atol: 0 }, 'dx');
    disposeWithGrad(x);
  });

  class TinyNet extends Module {
    readonly conv: Conv2d;
    readonly bn: BatchNorm2d;
    readonly fc: Linear;
    constructor(seed: number) {
      super();
      const rng = new InitRng(seed);
      this.conv = this.addModule('conv', new Conv2d(rt, { inChannels: 2, outChannels: 3, kernel: 3, stride: 2, pad: 1, bias: true }, rng));
      this.bn = this.addModule('bn', new BatchNorm2d(rt, 3));
      this.fc = this.addModule('fc', new Linear(rt, 3, 4, rng));
    }
    forward(x: Tensor): Tensor {
      return this.fc.forward(globalAvgPool(relu(this.bn.forward(this.conv.forward(x)))));
    }
  }
  const tinyX = uniform(2 * 2 * 7 * 7, 30);
  const tinyLabels = Uint32Array.of(1, 3);

  /** Forward + CE + backward; gradients of the parameters are left in place (not zeroed first). */
  async function tinyBackward(net: TinyNet): Promise<Record<string, Float32Array>> {
    return scope(async () => {
      const tape = new Tape().start();
      const logits = net.forward(Tensor.fromArray(rt, tinyX, [2, 2, 7, 7], 'x'));
      crossEntropyLoss(logits, { labels: Tensor.fromArray(rt, tinyLabels, [2], 'labels') });
      tape.backward();
      const out: Record<string, Float32Array> = {};
      for (const { name, tensor, kind } of net.namedTensors()) if (kind === 'parameter') out[name] = await tensor.grad!.toArray();
      return out;
    });
  }

  it('without zeroGrad a second backward adds; after zeroGrad the next backward overwrites', async () => {
    const net = new TinyNet(1);
    const g1 = await tinyBackward(net);
    expect(Object.keys(g1)).toEqual(['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'fc.weight', 'fc.bias']);
    const g2 = await tinyBackward(net);
    // Training-mode BN ignores the running statistics the first pass updated, so pass 2 computes
    // the same gradients and the sum is exactly 2·g1 up to one rounding.
    for (const k of Object.keys(g1)) expectClose(g2[k]!, g1[k]!.map((v) => 2 * v), { rtol: 1e-6, atol: 1e-9 }, `accumulated ${k}`);
    net.zeroGrad();
    for (const p of net.parameters()) expect(p.gradStale).toBe(true);
    const g3 = await tinyBackward(net);
    for (const k of Object.keys(g1)) expectClose(g3[k]!, g1[k]!, { rtol: 1e-6, atol: 1e-9 }, `after zeroGrad ${k}`);
    for (const p of net.parameters()) expect(p.gradStale).toBe(false);
    net.dispose();
  });

  it('noGrad records nothing, and recording resumes after it', async () => {
    const net = new TinyNet(2);
    await scope(async () => {
      const x = Tensor.fromArray(rt, tinyX, [2, 2, 7, 7], 'x');
      const tape = new Tape().start();
      const inner = await noGrad(async () => {
        const logits = net.forward(x);
        crossEntropyLoss(logits, { labels: Tensor.fromArray(rt, tinyLabels, [2], 'labels') });
        // Nested noGrad restores the disabled state, not "enabled".
        await noGrad(() => relu(logits));
        return { logits, after: relu(logits) };
      });
      expect(tape.nodes.length).toBe(0);
      expect(inner.logits.requiresGrad || inner.after.requiresGrad).toBe(false);
      expect(inner.logits.grad).toBeNull();
      for (const p of net.parameters()) expect(p.grad).toBeNull();
      net.forward(x);
      expect(tape.nodes.length).toBe(5); // conv, bn, relu, avgpool, linear
      tape.clear();
    });
    net.dispose();
  });

  it('frees saved activations after backward (and after clear), also when their handles were dropped before it', async () => {
    const net = new TinyNet(3);
    const reference = await tinyBackward(net); // creates the parameter gradients
    net.zeroGrad();
    const base = await inUse();
    const tape = new Tape().start();
    // Forward in its own scope: every intermediate handle is dropped, only tape holds them.
    const logits = await scope(() => net.forward(Tensor.fromArray(rt, tinyX, [2, 2, 7, 7], 'x')));
    const held = await inUse();
    const logitsBytes = logits.buffer.buffer.size;
    expect(held - base).toBeGreaterThan(logitsBytes); // x, conv output, bn output (relu output) …
    await scope(async () => {
      crossEntropyLoss(logits, { labels: Tensor.fromArray(rt, tinyLabels, [2], 'labels') });
      tape.backward();
    });
    expect(await inUse()).toBe(base + logitsBytes);
    for (const { name, tensor, kind } of net.namedTensors()) {
      if (kind === 'parameter') expectClose(await tensor.grad!.toArray(), reference[name]!, { rtol: 1e-6, atol: 1e-9 }, name);
    }
    logits.dispose();
    expect(await inUse()).toBe(base);

    const tape2 = new Tape().start();
    const logits2 = await scope(() => net.forward(Tensor.fromArray(rt, tinyX, [2, 2, 7, 7], 'x')));
    expect(await inUse()).toBe(held);
    tape2.clear();
    logits2.dispose();
    expect(await inUse()).toBe(base);
    net.dispose();
  });
});

describe('chained graph conv → bn → relu → maxpool → gap → linear → weighted CE: GPU gradients vs finite differences of the float64 graph', () => {
  // x [3,2,7,7] → conv 3×3/2 pad 1 [3,3,4,4] (no bias: before training-mode BN its gradient is 0) → bn → relu → maxpool 3×3/2 pad 1 [3,3,2,2]
  // → gap [3,3] → linear [3,4] → CE with weights (0.3, 1.7, 1.0). Every element of every input
  // and parameter gets a central difference (370 of them; the float64 graph is tiny).
  const N = 3;
  const xShape = [N, 2, 7, 7];
  const data = {
    x: uniform(N * 98, 50),
    w: uniform(54, 51, -0.4, 0.4),
    gamma: uniform(3, 53, 0.5, 1.5),
    beta: uniform(3, 54, -0.3, 0.3),
    W: uniform(12, 55, -0.8, 0.8),
    bW: uniform(4, 56, -0.1, 0.1),
  };
  const shapes: Record<keyof typeof data, number[]> = { x: xShape, w: [3, 2, 3, 3], gamma: [3], beta: [3], W: [4, 3], bW: [4] };
  const labels = Uint32Array.of(2, 0, 3);
  const weights = Float32Array.of(0.3, 1.7, 1.0);

  function refLoss(v: Record<keyof typeof data, RefValue>, g: RefGraph): number {
    let h = g.conv2d(v.x, v.w, 2, 1);
    h = g.relu(g.batchNorm(h, v.gamma, v.beta, { training: true }));
    h = g.globalAvgPool(g.maxPool2d(h, 3, 2, 1));
    return g.crossEntropy(g.linear(h, v.W, v.bW), labels, weights);
  }

  it('every gradient element matches; the reference analytic gradient matches too', async () => {
    const keys = Object.keys(data) as Array<keyof typeof data>;
    const gpu = await scope(async () => {
      const t = Object.fromEntries(keys.map((k) => [k, leaf(data[k], shapes[k], k)])) as Record<keyof typeof data, Tensor>;
      const rm = Tensor.fromArray(rt, new Float32Array(3), [3], 'rm');
      const rv = Tensor.fromArray(rt, new Float32Array(3).fill(1), [3], 'rv');
      const tape = new Tape().start();
      let h = conv2d(t.x, t.w, null, { stride: 2, pad: 1 });
      h = relu(batchNorm2d(h, t.gamma, t.beta, rm, rv, { training: true }));
      h = globalAvgPool(maxPool2d(h, { kernel: 3, stride: 2, pad: 1 }));
      const { stats } = crossEntropyLoss(linear(h, t.W, t.bW), { labels: Tensor.fromArray(rt, labels, [N], 'labels'), weights: Tensor.fromArray(rt, weights, [N], 'weights') });
      tape.backward();
      const grads = {} as Record<keyof typeof data, Float32Array>;
      for (const k of keys) grads[k] = await t[k].grad!.toArray();
      const loss = (await stats.toArray())[0]!;
      disposeWithGrad(...keys.map((k) => t[k]));
      return { grads, loss };
    });

    const v = Object.fromEntries(keys.map((k) => [k, RefValue.of(data[k], shapes[k])])) as Record<keyof typeof data, RefValue>;
    const g = new RefGraph();
    const loss = refLoss(v, g);
    g.backward();
    expect(Math.abs(gpu.loss - loss)).toBeLessThan(1e-5 * Math.max(1, loss));
    const f = () => refLoss(v, new RefGraph(false));
    for (const k of keys) {
      const fd = numericalGrad(f, v[k].data);
      // float64 analytic vs central differences: O(h²) + O(ε/h); measured ≤ 1.1e-9 of scale.
      expectScaledClose(v[k].grad!, fd, 1e-7, `reference d loss/d ${k} vs FD`);
      // GPU f32 vs float64: six layers of short f32 sums (≤ 18-term conv taps, 48-element BN
      // reductions), each ~K·2^-24; measured ≤ 6e-7 of scale, bound 2e-5.
      expectScaledClose(gpu.grads[k], fd, 2e-5, `GPU d loss/d ${k} vs FD`);
      expect(Math.max(...Array.from(fd, Math.abs)), `${k}: gradient is zero`).toBeGreaterThan(1e-4);
    }
  });
});
