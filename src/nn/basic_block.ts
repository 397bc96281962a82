// ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut
// is a 1×1 stride-s conv + BN (torchvision's `downsample`) when the shape changes. Both
// BN→ReLU tails run as one fused kernel each (BN+ReLU, and BN+add+ReLU for the residual sum).
import { Module } from './module.js';
import type { Tensor } from './tensor.js';
import type { Runtime } from '../kernels/runtime.js';
import type { InitRng } from './init.js';
import { Conv2d } from './layers/conv2d.js';
import { BatchNorm2d } from './layers/batchnorm2d.js';

class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(rt: Runtime, inC: number, outC: number, stride: number, rng: InitRng) {
    super();
    // torchvision names these downsample.0 and downsample.1 (an nn.Sequential).
    this.conv = this.addModule('0', new Conv2d(rt, { inChannels: inC, outChannels: outC, kernel: 1, stride }, rng));
    this.bn = this.addModule('1', new BatchNorm2d(rt, outC));
  }

  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | null;

  constructor(rt: Runtime, inC: number, outC: number, stride: number, rng: InitRng) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(rt, { inChannels: inC, outChannels: outC, kernel: 3, stride, pad: 1 }, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(rt, outC));
    this.conv2 = this.addModule('conv2', new Conv2d(rt, { inChannels: outC, outChannels: outC, kernel: 3, stride: 1, pad: 1 }, rng));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(rt, outC));
    this.downsample = stride !== 1 || inC !== outC ? this.addModule('downsample', new Downsample(rt, inC, outC, stride, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    const h = this.bn1.forward(this.conv1.forward(x), { relu: true });
    const shortcut = this.downsample ? this.downsample.forward(x) : x;
    return this.bn2.forward(this.conv2.forward(h), { relu: true, residual: shortcut });
  }
}
