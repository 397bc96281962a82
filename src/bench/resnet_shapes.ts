// The distinct conv shapes of ResNet18 on a 1-channel 112×112 input, with how often each
// occurs in the network (BasicBlocks: two 3×3 convs; the first block of stages 2–4 has stride 2
// and a 1×1 stride-2 downsample).
//   cifar:       BackMix's CIFAR-style stem, conv1 3×3 s1 p1, no max-pool → stages at 112/56/28/14.
//   torchvision: conv1 7×7 s2 p3 + max-pool 3×3 s2 → stages at 28/14/7/4.
import type { Conv2dShape } from '../kernels/conv2d.js';

export interface NamedConv {
  stem: 'cifar' | 'torchvision';
  name: string;
  shape: Conv2dShape;
  /** Occurrences in one forward pass of the network. */
  count: number;
}

/** The distinct conv shapes of ResNet18 at 112² (`width` = layer1's channels; 64 is torchvision's). */
export function resnet18ConvShapes(stem: 'cifar' | 'torchvision', N: number, inputChannels = 1, width = 64): NamedConv[] {
  const out: NamedConv[] = [];
  const conv = (name: string, Ci: number, Co: number, H: number, K: number, stride: number, count: number) =>
    out.push({ stem, name, count, shape: { N, Ci, H, W: H, Co, KH: K, KW: K, stride, pad: (K - 1) >> 1 } });
  let H: number;
  if (stem === 'cifar') {
    conv('conv1', inputChannels, width, 112, 3, 1, 1);
    H = 112;
  } else {
    conv('conv1', inputChannels, width, 112, 7, 2, 1);
    H = 28; // 112 → 56 (conv1) → 28 (max-pool)
  }
  conv('layer1 3x3', width, width, H, 3, 1, 4);
  let C = width;
  for (const [i, Co] of [[2, 2 * width], [3, 4 * width], [4, 8 * width]] as const) {
    const Hout = Math.floor((H + 2 - 3) / 2) + 1;
    conv(`layer${i}.0 conv1 s2`, C, Co, H, 3, 2, 1);
    conv(`layer${i}.0 downsample`, C, Co, H, 1, 2, 1);
    conv(`layer${i} 3x3`, Co, Co, Hout, 3, 1, 3);
    C = Co;
    H = Hout;
  }
  return out;
}
