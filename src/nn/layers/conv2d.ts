// Conv2d module: weight [out,in,k,k] (OIHW), optional bias [out], PyTorch default init.
import { Module } from '../module.js';
import { Tensor } from '../tensor.js';
import type { Runtime } from '../../kernels/runtime.js';
import { InitRng, uniformInit, defaultBound } from '../init.js';
import { conv2d } from '../ops/conv2d.js';

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  pad?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly pad: number;

  constructor(rt: Runtime, readonly cfg: Conv2dConfig, rng: InitRng) {
    super();
    const { inChannels: ci, outChannels: co, kernel: k } = cfg;
    this.stride = cfg.stride ?? 1;
    this.pad = cfg.pad ?? 0;
    const bound = defaultBound(ci * k * k);
    this.weight = this.addParameter('weight', Tensor.fromArray(rt, uniformInit(co * ci * k * k, bound, rng), [co, ci, k, k], 'conv.weight'));
    this.bias = cfg.bias ? this.addParameter('bias', Tensor.fromArray(rt, uniformInit(co, bound, rng), [co], 'conv.bias')) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, pad: this.pad });
  }
}
