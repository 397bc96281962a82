// BatchNorm2d over NCHW: training mode normalises with batch statistics (and updates the
// running ones in place), eval mode with the running statistics.
import { Tensor, shapeStr } from '../tensor.js';
import { record, gradSlot, expectShape } from '../tape.js';
import { batchNormTrainForward, batchNormEvalForward, batchNormBackward } from '../../kernels/batchnorm.js';
import type { Shape4 } from '../../kernels/reduce.js';

export interface BatchNormOptions {
  training: boolean;
  eps?: number;
  momentum?: number;
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
  const rt = x.rt;
  const y = Tensor.empty(rt, x.shape, 'batchnorm');
  if (!o.training) {
    batchNormEvalForward(rt, x.buffer, gamma.buffer, beta.buffer, runMean.buffer, runVar.buffer, y.buffer, shape, { eps: o.eps });
    // Training through eval-mode BN is not supported: GradCAM tapes only the head (after the
    // last BN), so no caller needs this backward; a node that says so beats a silent zero gradient.
    record('batchnorm_eval', [x, gamma, beta], [y], [], () => {
      throw new Error('batchNorm2d: backward through eval-mode BatchNorm is not supported; use training mode or noGrad');
    });
    return y;
  }
  const mean = Tensor.empty(rt, [C], 'bn.save_mean');
  const invStd = Tensor.empty(rt, [C], 'bn.save_invstd');
  batchNormTrainForward(
    rt, x.buffer, gamma.buffer, beta.buffer, runMean.buffer, runVar.buffer, y.buffer, mean.buffer, invStd.buffer, shape,
    { eps: o.eps, momentum: o.momentum },
  );
  record('batchnorm', [x, gamma, beta], [y], [x, gamma, mean, invStd], () => {
    const dx = gradSlot(x, false);
    const dg = gradSlot(gamma);
    const dbt = gradSlot(beta, dg.accumulate);
    if (!dx.dst || !dg.dst || !dbt.dst || dg.accumulate !== dbt.accumulate) {
      throw new Error('batchNorm2d: backward needs gradients for input, weight and bias, in step');
    }
    batchNormBackward(
      rt, x.buffer, y.grad!.buffer, gamma.buffer, mean.buffer, invStd.buffer, dx.dst.buffer, dg.dst.buffer, dbt.dst.buffer, shape,
      { accumulateParams: dg.accumulate },
    );
    dx.done();
    dg.done();
    dbt.done();
  });
  mean.dispose();
  invStd.dispose();
  return y;
}
