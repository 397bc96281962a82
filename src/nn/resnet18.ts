// ResNet18 with torchvision's parameter names. Stems: `cifar` (the BackMix reference: conv1
// 3×3 stride 1 pad 1, no max-pool) and `imagenet` (torchvision: 7×7 stride 2 pad 3 + 3×3/2
// max-pool, ~16× cheaper at 112×112). Stages of width w, 2w, 4w, 8w with strides 1, 2, 2, 2.
import { Module } from './module.js';
import type { Tensor } from './tensor.js';
import type { Runtime } from '../kernels/runtime.js';
import { InitRng } from './init.js';
import { Conv2d } from './layers/conv2d.js';
import { BatchNorm2d } from './layers/batchnorm2d.js';
import { Linear } from './layers/linear.js';
import { BasicBlock } from './basic_block.js';
import { maxPool2d, globalAvgPool } from './ops/pool.js';

export type Stem = 'cifar' | 'imagenet';

export interface ResNet18Config {
  inChannels: number;
  numClasses: number;
  stem: Stem;
  /** Channels of the first stage (64 in torchvision); smaller widths make CPU runs practical. */
  width: number;
}

export const DEFAULT_RESNET18: ResNet18Config = { inChannels: 1, numClasses: 4, stem: 'cifar', width: 64 };

class Stage extends Module {
  readonly blocks: BasicBlock[];

  constructor(rt: Runtime, inC: number, outC: number, stride: number, rng: InitRng) {
    super();
    this.blocks = [
      this.addModule('0', new BasicBlock(rt, inC, outC, stride, rng)),
      this.addModule('1', new BasicBlock(rt, outC, outC, 1, rng)),
    ];
  }

  forward(x: Tensor): Tensor {
    return this.blocks[1]!.forward(this.blocks[0]!.forward(x));
  }
}

export class ResNet18 extends Module {
  readonly config: ResNet18Config;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Stage[];
  readonly fc: Linear;

  constructor(rt: Runtime, config: Partial<ResNet18Config> = {}, seed = 0) {
    super();
    const c = { ...DEFAULT_RESNET18, ...config };
    for (const [k, v] of Object.entries({ inChannels: c.inChannels, numClasses: c.numClasses, width: c.width })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`ResNet18: ${k} must be a positive integer, got ${v}`);
    }
    if (c.stem !== 'cifar' && c.stem !== 'imagenet') throw new RangeError(`ResNet18: stem must be 'cifar' or 'imagenet', got '${c.stem}'`);
    this.config = c;
    const rng = new InitRng(seed);
    const w = c.width;
    this.conv1 = this.addModule(
      'conv1',
      c.stem === 'cifar'
        ? new Conv2d(rt, { inChannels: c.inChannels, outChannels: w, kernel: 3, stride: 1, pad: 1 }, rng)
        : new Conv2d(rt, { inChannels: c.inChannels, outChannels: w, kernel: 7, stride: 2, pad: 3 }, rng),
    );
    this.bn1 = this.addModule('bn1', new BatchNorm2d(rt, w));
    this.layers = [
      this.addModule('layer1', new Stage(rt, w, w, 1, rng)),
      this.addModule('layer2', new Stage(rt, w, 2 * w, 2, rng)),
      this.addModule('layer3', new Stage(rt, 2 * w, 4 * w, 2, rng)),
      this.addModule('layer4', new Stage(rt, 4 * w, 8 * w, 2, rng)),
    ];
    this.fc = this.addModule('fc', new Linear(rt, 8 * w, c.numClasses, rng));
  }

  /** The stem and the four stages: x [N,inC,H,W] → the last conv stage's activation [N,8w,h,w]. */
  features(x: Tensor): Tensor {
    let h = this.bn1.forward(this.conv1.forward(x), { relu: true });
    if (this.config.stem === 'imagenet') h = maxPool2d(h, { kernel: 3, stride: 2, pad: 1 });
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  /** Logits [N, numClasses] from the last stage's activation. */
  head(features: Tensor): Tensor {
    return this.fc.forward(globalAvgPool(features));
  }

  forward(x: Tensor): Tensor {
    return this.head(this.features(x));
  }
}
