// BatchNorm2d over NCHW: training mode normalises with batch statistics (and updates the
// running ones in place), eval mode with the running statistics. With `relu` (and a `residual`)
// it is the fused y = relu(bn(x) [+ residual]) of a ResNet block: one pass over the activation
// instead of two or three, and one saved tensor instead of three.
import { Tensor, shapeStr } from '../tensor.js';
import { record, gradSlot, expectShape } from '../tape.js';
import {
  batchNormTrainForward, batchNormEvalForward, batchNormBackward,
  batchNormReluTrainForward, batchNormReluEvalForward, batchNormReluBackward,
  batchNormAddReluTrainForward, batchNormAddReluEvalForward, batchNormAddReluBackward,
} from '../../kernels/batchnorm.js';
import type { Shape4 } from '../../kernels/reduce.js';

export interface BatchNormOptions {
  training: boolean;
  eps?: number;
  momentum?: number;
  /** y = relu(bn(x) [+ residual]). */
  relu?: boolean;
  /** Added before the ReLU (needs `relu`): the shortcut of a BasicBlock. */
  residual?: Tensor | null;
}

export function batchNorm2d(
  x: Tensor, gamma: Tensor, beta: Tensor, runMean: Tensor, runVar: Tensor, o: BatchNormOptions,
): Tensor {
  if (x.shape.length !== 4) throw new RangeError(`batchNorm2d: x ${shapeStr(x.shape)} must be [N,C,H,W]`);
  const shape = x.shape as unknown as Shape4;
  const C = shape[1];
  for (const [name, t] of [['weight', gamma], ['bias', beta], ['running_mean', runMean], ['running_var', runVar]] as const) {
    expectShape('batchNorm2d', name, t.shape, [C]);
  }
  const res = o.residual ?? null;
  if (res && !o.relu) throw new Error('batchNorm2d: a residual is only fused with relu (relu(bn(x) + residual))');
  if (res) expectShape('batchNorm2d', 'residual', res.shape, x.shape);
  const relu = !!o.relu;
  const rt = x.rt;
  const y = Tensor.empty(rt, x.shape, relu ? (res ? 'bn_add_relu' : 'bn_relu') : 'batchnorm');
  const inputs = res ? [x, gamma, beta, res] : [x, gamma, beta];
  if (!o.training) {
    const eval_ = { eps: o.eps };
    if (res) batchNormAddReluEvalForward(rt, x.buffer, res.buffer, gamma.buffer, beta.buffer, runMean.buffer, runVar.buffer, y.buffer, shape, eval_);
    else if (relu) batchNormReluEvalForward(rt, x.buffer, gamma.buffer, beta.buffer, runMean.buffer, runVar.buffer, y.buffer, shape, eval_);
    else batchNormEvalForward(rt, x.buffer, gamma.buffer, beta.buffer, runMean.buffer, runVar.buffer, y.buffer, shape, eval_);
    // Training through eval-mode BN is not supported: GradCAM tapes only the head (after the
    // last BN), so no caller needs this backward; a node that says so beats a silent zero gradient.
    record('batchnorm_eval', inputs, [y], [], () => {
      throw new Error('batchNorm2d: backward through eval-mode BatchNorm is not supported; use training mode or noGrad');
    });
    return y;
  }
  const mean = Tensor.empty(rt, [C], 'bn.save_mean');
  const invStd = Tensor.empty(rt, [C], 'bn.save_invstd');
  const train = { eps: o.eps, momentum: o.momentum };
  const b = { x: x.buffer, g: gamma.buffer, bt: beta.buffer, rm: runMean.buffer, rv: runVar.buffer, y: y.buffer, m: mean.buffer, s: invStd.buffer };
  if (res) batchNormAddReluTrainForward(rt, b.x, res.buffer, b.g, b.bt, b.rm, b.rv, b.y, b.m, b.s, shape, train);
  else if (relu) batchNormReluTrainForward(rt, b.x, b.g, b.bt, b.rm, b.rv, b.y, b.m, b.s, shape, train);
  else batchNormTrainForward(rt, b.x, b.g, b.bt, b.rm, b.rv, b.y, b.m, b.s, shape, train);
  // The fused backward masks dy with y > 0, so it keeps y (the next layer holds it anyway).
  record('batchnorm', inputs, [y], relu ? [x, gamma, mean, invStd, y] : [x, gamma, mean, invStd], () => {
    const dx = gradSlot(x, false);
    const dg = gradSlot(gamma);
    const dbt = gradSlot(beta, dg.accumulate);
    if (!dx.dst || !dg.dst || !dbt.dst || dg.accumulate !== dbt.accumulate) {
      throw new Error('batchNorm2d: backward needs gradients for input, weight and bias, in step');
    }
    const acc = { accumulateParams: dg.accumulate };
    const dy = y.grad!.buffer;
    if (res) {
      // The residual's gradient is dy·[y > 0]; a residual that needs none gets a scratch buffer.
      const dr = gradSlot(res);
      const dres = dr.dst ?? Tensor.empty(rt, res.shape, 'bn.dresidual-unused');
      batchNormAddReluBackward(
        rt, b.x, b.y, dy, b.g, b.m, b.s, dx.dst.buffer, dres.buffer, dg.dst.buffer, dbt.dst.buffer, shape,
        { ...acc, accumulateResidual: dr.accumulate },
      );
      dr.done();
      if (!dr.dst) dres.dispose();
    } else if (relu) {
      batchNormReluBackward(rt, b.x, b.y, dy, b.g, b.m, b.s, dx.dst.buffer, dg.dst.buffer, dbt.dst.buffer, shape, acc);
    } else {
      batchNormBackward(rt, b.x, dy, b.g, b.m, b.s, dx.dst.buffer, dg.dst.buffer, dbt.dst.buffer, shape, acc);
    }
    dx.done();
    dg.done();
    dbt.done();
  });
  mean.dispose();
  invStd.dispose();
  return y;
}
