// float64 reference network for src/nn/resnet18.ts (and any small graph of the nn ops), composed
// from the per-op references so that it is only as trustworthy as they are — and each of those is
// checked against finite differences in its own test. `RefGraph` is a minimal float64 tape:
// every op computes its output with the op reference and records a closure that turns the
// output's gradient into its inputs' gradients with the op's reference backward.
//
// ResNet18 here is written from the architecture, not from wgml's module tree: torchvision's
// names (`layer2.0.downsample.0.weight`), BasicBlocks relu(bn2(conv2(relu(bn1(conv1 x)))) + sc),
// stems `cifar` (3×3/1 pad 1, no max-pool) and `imagenet` (7×7/2 pad 3 + 3×3/2 pad 1 max-pool).
// Activations NCHW, conv weights OIHW, fc weight [out,in], all float64.
import { conv2dRef, conv2dBackwardInputRef, conv2dBackwardWeightRef, refOutputSize } from './conv2d.js';
import { bnStatsRef, bnApplyRef, bnBackwardRef, bnEvalForwardRef, reluMaskRef, type Shape4 } from './batchnorm.js';
import { maxPool2dRef, maxPool2dBackwardRef, globalAvgPoolRef, globalAvgPoolBackwardRef, poolOutSize } from './pool.js';
import { linearRef, linearBackwardRef } from './linear.js';
import { crossEntropyRef } from './cross_entropy.js';

/** A float64 array with a shape and, after backward, its gradient. */
export class RefValue {
  grad: Float64Array | null = null;

  constructor(
    readonly data: Float64Array,
    readonly shape: readonly number[],
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new RangeError(`RefValue: ${data.length} values for shape [${shape.join(',')}]`);
  }

  static of(data: ArrayLike<number>, shape: readonly number[]): RefValue {
    return new RefValue(Float64Array.from(data), shape);
  }

  addGrad(g: ArrayLike<number>): void {
    if (!this.grad) this.grad = new Float64Array(this.data.length);
    for (let i = 0; i < g.length; i++) this.grad[i]! += g[i]!;
  }
}

/** Batch statistics a training-mode BatchNorm saw (for checking running-stat updates). */
export interface RefBnStats {
  mean: Float64Array;
  varBiased: Float64Array;
  /** Elements per channel, N·H·W. */
  M: number;
}

function shape4(v: RefValue, op: string): Shape4 {
  if (v.shape.length !== 4) throw new RangeError(`${op}: expected [N,C,H,W], got [${v.shape.join(',')}]`);
  return v.shape as unknown as Shape4;
}

export class RefGraph {
  private readonly nodes: Array<{ out: RefValue; backward: (dy: Float64Array) => void }> = [];
  /** When false, ops skip recording (a forward-only loss for finite differences). */
  constructor(readonly record = true) {}

  private push(out: RefValue, backward: (dy: Float64Array) => void): RefValue {
    if (this.record) this.nodes.push({ out, backward });
    return out;
  }

  /** x [N,Ci,H,W], w [Co,Ci,K,K] → [N,Co,Ho,Wo]; no bias (ResNet convs have none). */
  conv2d(x: RefValue, w: RefValue, stride: number, pad: number, b: RefValue | null = null): RefValue {
    const [N, Ci, H, W] = shape4(x, 'conv2d');
    const [Co, , KH, KW] = shape4(w, 'conv2d');
    const s = { N, Ci, H, W, Co, KH, KW, stride, pad };
    const [Ho, Wo] = refOutputSize(s);
    const y = new RefValue(conv2dRef(x.data, w.data, b?.data ?? null, s), [N, Co, Ho, Wo]);
    return this.push(y, (dy) => {
      x.addGrad(conv2dBackwardInputRef(dy, w.data, s));
      const { dw, db } = conv2dBackwardWeightRef(x.data, dy, s);
      w.addGrad(dw);
      b?.addGrad(db);
    });
  }

  /**
   * BatchNorm2d. Training: batch statistics (reported to `onStats`); eval: running statistics.
   */
  batchNorm(
    x: RefValue, gamma: RefValue, beta: RefValue,
    o: { training: boolean; runMean?: ArrayLike<number>; runVar?: ArrayLike<number>; eps?: number; onStats?: (s: RefBnStats) => void },
  ): RefValue {
    const shape = shape4(x, 'batchNorm');
    const eps = o.eps ?? 1e-5;
    if (!o.training) {
      if (!o.runMean || !o.runVar) throw new Error('batchNorm: eval mode needs running statistics');
      const y = new RefValue(bnEvalForwardRef(x.data, gamma.data, beta.data, o.runMean, o.runVar, shape, eps), shape);
      // Eval-mode BN is affine in x: dx = dy·γ/√(var+eps), dγ = Σ dy·x̂, dβ = Σ dy.
      return this.push(y, (dy) => {
        const [N, C, H, W] = shape;
        const HW = H * W;
        const dx = new Float64Array(dy.length);
        const dg = new Float64Array(C);
        const db = new Float64Array(C);
        for (let n = 0; n < N; n++) {
          for (let c = 0; c < C; c++) {
            const inv = 1 / Math.sqrt(o.runVar![c]! + eps);
            for (let i = 0; i < HW; i++) {
              const e = (n * C + c) * HW + i;
              dx[e] = dy[e]! * gamma.data[c]! * inv;
              dg[c]! += dy[e]! * (x.data[e]! - o.runMean![c]!) * inv;
              db[c]! += dy[e]!;
            }
          }
        }
        x.addGrad(dx);
        gamma.addGrad(dg);
        beta.addGrad(db);
      });
    }
    const st = bnStatsRef(x.data, shape, eps);
    o.onStats?.({ mean: st.mean, varBiased: st.varBiased, M: shape[0] * shape[2] * shape[3] });
    const y = new RefValue(bnApplyRef(x.data, shape, st.mean, st.invstd, gamma.data, beta.data), shape);
    return this.push(y, (dy) => {
      const g = bnBackwardRef(x.data, dy, gamma.data, shape, eps);
      x.addGrad(g.dx);
      gamma.addGrad(g.dgamma);
      beta.addGrad(g.dbeta);
    });
  }

  relu(x: RefValue): RefValue {
    const y = new RefValue(x.data.map((v) => Math.max(v, 0)), x.shape);
    return this.push(y, (dy) => x.addGrad(reluMaskRef(y.data, dy)));
  }

  add(a: RefValue, b: RefValue): RefValue {
    if (a.shape.join(',') !== b.shape.join(',')) throw new RangeError(`add: [${a.shape}] vs [${b.shape}]`);
    const y = new RefValue(a.data.map((v, i) => v + b.data[i]!), a.shape);
    return this.push(y, (dy) => {
      a.addGrad(dy);
      b.addGrad(dy);
    });
  }

  maxPool2d(x: RefValue, kernel: number, stride: number, pad: number): RefValue {
    const shape = shape4(x, 'maxPool2d');
    const p = { kernel: [kernel, kernel] as [number, number], stride: [stride, stride] as [number, number], padding: [pad, pad] as [number, number] };
    const { y, idx } = maxPool2dRef(x.data, shape, p);
    const [OH, OW] = poolOutSize(shape, p);
    return this.push(new RefValue(y, [shape[0], shape[1], OH, OW]), (dy) => x.addGrad(maxPool2dBackwardRef(dy, idx, shape, p)));
  }

  /** [N,C,H,W] → [N,C] */
  globalAvgPool(x: RefValue): RefValue {
    const shape = shape4(x, 'globalAvgPool');
    const y = new RefValue(globalAvgPoolRef(x.data, shape), [shape[0], shape[1]]);
    return this.push(y, (dy) => x.addGrad(globalAvgPoolBackwardRef(dy, shape)));
  }

  /** x [N,in], W [out,in], b [out] → [N,out] */
  linear(x: RefValue, W: RefValue, b: RefValue): RefValue {
    const [N, I] = x.shape as [number, number];
    const O = W.shape[0]!;
    const y = new RefValue(linearRef(x.data, W.data, b.data, N, I, O), [N, O]);
    return this.push(y, (dy) => {
      const g = linearBackwardRef(x.data, W.data, dy, N, I, O);
      x.addGrad(g.dx);
      W.addGrad(g.dW);
      b.addGrad(g.db);
    });
  }

  /** loss = (1/N)·Σ w_i·CE_i; seeds logits.grad with d(loss)/d(logits) when recording. */
  crossEntropy(logits: RefValue, labels: ArrayLike<number>, weights: ArrayLike<number> | null): number {
    const [N, K] = logits.shape as [number, number];
    const r = crossEntropyRef(logits.data, { labels }, weights, N, K);
    if (this.record) logits.addGrad(r.dlogits);
    return r.loss;
  }

  /** Runs the recorded nodes in reverse; node outputs without a gradient are skipped. */
  backward(): void {
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const { out, backward } = this.nodes[i]!;
      if (out.grad) backward(out.grad);
    }
    this.nodes.length = 0;
  }
}

export interface RefResNet18Config {
  stem: 'cifar' | 'imagenet';
  inChannels: number;
  numClasses: number;
  width: number;
}

export interface RefResNet18Options {
  training: boolean;
  /** BN running statistics by module prefix (`layer1.0.bn1`), needed in eval mode. */
  running?: Record<string, { mean: ArrayLike<number>; var: ArrayLike<number> }>;
  /** Receives each training-mode BN's batch statistics, by module prefix. */
  onStats?: (prefix: string, s: RefBnStats) => void;
}

/**
 * ResNet18 forward on `g`: x [N,inC,H,W] → logits [N,numClasses]. `params` maps torchvision
 * parameter names (weights and BN γ/β) to values; every name read is added to `used`, so a test
 * can check the reference and the model have the same parameter set.
 */
export function refResNet18Forward(
  g: RefGraph, params: Record<string, RefValue>, config: RefResNet18Config, x: RefValue, o: RefResNet18Options, used?: Set<string>,
): RefValue {
  const p = (name: string): RefValue => {
    const v = params[name];
    if (!v) throw new Error(`refResNet18: no parameter ${name}`);
    used?.add(name);
    return v;
  };
  const bn = (prefix: string, h: RefValue): RefValue =>
    g.batchNorm(h, p(`${prefix}.weight`), p(`${prefix}.bias`), {
      training: o.training,
      runMean: o.running?.[prefix]?.mean,
      runVar: o.running?.[prefix]?.var,
      onStats: o.onStats ? (s) => o.onStats!(prefix, s) : undefined,
    });
  const w = config.width;
  let h = config.stem === 'cifar' ? g.conv2d(x, p('conv1.weight'), 1, 1) : g.conv2d(x, p('conv1.weight'), 2, 3);
  h = g.relu(bn('bn1', h));
  if (config.stem === 'imagenet') h = g.maxPool2d(h, 3, 2, 1);
  let inC = w;
  for (let stage = 1; stage <= 4; stage++) {
    const outC = w * 2 ** (stage - 1);
    for (let b = 0; b < 2; b++) {
      const pre = `layer${stage}.${b}`;
      const stride = b === 0 && stage > 1 ? 2 : 1;
      const t = g.relu(bn(`${pre}.bn1`, g.conv2d(h, p(`${pre}.conv1.weight`), stride, 1)));
      const u = bn(`${pre}.bn2`, g.conv2d(t, p(`${pre}.conv2.weight`), 1, 1));
      const sc = stride !== 1 || inC !== outC ? bn(`${pre}.downsample.1`, g.conv2d(h, p(`${pre}.downsample.0.weight`), stride, 0)) : h;
      h = g.relu(g.add(u, sc));
      inC = outC;
    }
  }
  return g.linear(g.globalAvgPool(h), p('fc.weight'), p('fc.bias'));
}

export interface RefResNet18Result {
  logits: Float64Array;
  loss: number;
  /** d(loss)/d(parameter) for every parameter, by name. */
  grads: Record<string, Float64Array>;
  /** d(loss)/d(x), the input's gradient. */
  xGrad: Float64Array;
  /** Training-mode batch statistics of every BN, by module prefix. */
  stats: Record<string, RefBnStats>;
}

/** Forward, weighted CE loss and backward in float64. `params` values are read, not modified. */
export function refResNet18LossAndGrads(
  params: Record<string, ArrayLike<number>>, shapes: Record<string, readonly number[]>, config: RefResNet18Config,
  x: ArrayLike<number>, xShape: readonly number[], labels: ArrayLike<number>, weights: ArrayLike<number> | null,
): RefResNet18Result {
  const g = new RefGraph();
  const pv: Record<string, RefValue> = {};
  for (const [k, v] of Object.entries(params)) pv[k] = RefValue.of(v, shapes[k]!);
  const stats: Record<string, RefBnStats> = {};
  const used = new Set<string>();
  const xv = RefValue.of(x, xShape);
  const logits = refResNet18Forward(g, pv, config, xv, { training: true, onStats: (k, s) => (stats[k] = s) }, used);
  const unused = Object.keys(params).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`refResNet18: parameters not in the network: ${unused.join(', ')}`);
  const loss = g.crossEntropy(logits, labels, weights);
  g.backward();
  const grads: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(pv)) grads[k] = v.grad ?? new Float64Array(v.data.length);
  return { logits: logits.data, loss, grads, xGrad: xv.grad ?? new Float64Array(xv.data.length), stats };
}

/**
 * The training-mode loss alone, reading `params` in place (Float64Arrays), for central finite
 * differences: numericalGrad perturbs one element of one array and calls this.
 */
export function refResNet18Loss(
  params: Record<string, Float64Array>, shapes: Record<string, readonly number[]>, config: RefResNet18Config,
  x: Float64Array, xShape: readonly number[], labels: ArrayLike<number>, weights: ArrayLike<number> | null,
): number {
  const g = new RefGraph(false);
  const pv: Record<string, RefValue> = {};
  for (const [k, v] of Object.entries(params)) pv[k] = new RefValue(v, shapes[k]!);
  const logits = refResNet18Forward(g, pv, config, new RefValue(x, xShape), { training: true });
  return g.crossEntropy(logits, labels, weights);
}

/** Eval-mode logits from parameters and running statistics (`<prefix>.running_mean/var`). */
export function refResNet18Eval(
  tensors: Record<string, ArrayLike<number>>, shapes: Record<string, readonly number[]>, config: RefResNet18Config,
  x: ArrayLike<number>, xShape: readonly number[],
): Float64Array {
  const g = new RefGraph(false);
  const pv: Record<string, RefValue> = {};
  const running: Record<string, { mean: ArrayLike<number>; var: ArrayLike<number> }> = {};
  for (const [k, v] of Object.entries(tensors)) {
    const m = /^(.*)\.running_(mean|var)$/.exec(k);
    if (m) (running[m[1]!] ??= { mean: [], var: [] })[m[2] as 'mean' | 'var'] = v;
    else pv[k] = RefValue.of(v, shapes[k]!);
  }
  return refResNet18Forward(g, pv, config, RefValue.of(x, xShape), { training: false, running }).data;
}
