// Linear module: weight [out,in], bias [out], PyTorch default init.
import { Module } from '../module.js';
import { Tensor } from '../tensor.js';
import type { Runtime } from '../../kernels/runtime.js';
import { InitRng, uniformInit, defaultBound } from '../init.js';
import { linear } from '../ops/linear.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(rt: Runtime, readonly inFeatures: number, readonly outFeatures: number, rng: InitRng) {
    super();
    const bound = defaultBound(inFeatures);
    this.weight = this.addParameter('weight', Tensor.fromArray(rt, uniformInit(outFeatures * inFeatures, bound, rng), [outFeatures, inFeatures], 'fc.weight'));
    this.bias = this.addParameter('bias', Tensor.fromArray(rt, uniformInit(outFeatures, bound, rng), [outFeatures], 'fc.bias'));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
