// BatchNorm2d module: weight (γ) and bias (β) [C], running_mean/var [C], num_batches_tracked
// (an I64 counter kept on the host, written to state dicts as torch does).
import { Module } from '../module.js';
import { Tensor } from '../tensor.js';
import type { Runtime } from '../../kernels/runtime.js';
import { batchNorm2d, type BatchNormOptions } from '../ops/batchnorm.js';

export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  numBatchesTracked = 0n;

  constructor(rt: Runtime, readonly channels: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.addParameter('weight', Tensor.fromArray(rt, new Float32Array(channels).fill(1), [channels], 'bn.weight'));
    this.bias = this.addParameter('bias', Tensor.fromArray(rt, new Float32Array(channels), [channels], 'bn.bias'));
    this.runningMean = this.addBuffer('running_mean', Tensor.fromArray(rt, new Float32Array(channels), [channels], 'bn.running_mean'));
    this.runningVar = this.addBuffer('running_var', Tensor.fromArray(rt, new Float32Array(channels).fill(1), [channels], 'bn.running_var'));
    this.addCounter('num_batches_tracked', () => this.numBatchesTracked, (v) => (this.numBatchesTracked = v));
  }

  /** bn(x), or with `fuse` relu(bn(x)) / relu(bn(x) + residual) in one kernel. */
  forward(x: Tensor, fuse: Pick<BatchNormOptions, 'relu' | 'residual'> = {}): Tensor {
    if (this.training) this.numBatchesTracked++;
    return batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      eps: this.eps,
      momentum: this.momentum,
      ...fuse,
    });
  }
}
