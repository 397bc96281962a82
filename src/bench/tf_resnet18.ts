// ResNet18 for the TensorFlow.js peer, built with its layers API in wgml's (torchvision's)
// architecture and started from wgml's own initial parameters: OIHW conv weights become HWIO,
// Linear [out,in] becomes Dense [in,out], BatchNorm keeps γ, β, running mean and variance
// (momentum 0.9 in Keras terms = torch's 0.1, ε 1e-5). Strided convs pad explicitly
// (ZeroPadding2D + 'valid'): TF's 'same' pads stride-2 convs asymmetrically, torch does not.
// The max-pool's zero padding equals torch's −∞ padding because its input is post-ReLU (≥ 0).
import type { Tf } from './peers.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** OIHW → HWIO. */
export function oihwToHwio(t: HostTensor): Float32Array {
  const [O, I, H, W] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((h * W + w) * I + i) * O + o] = t.data[((o * I + i) * H + h) * W + w]!;
  return out;
}

/** Row-major [R,C] → [C,R]. */
export function transpose2d(data: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = data[r * C + c]!;
  return out;
}

export interface TfResNetConfig {
  stem: 'cifar' | 'imagenet';
  width: number;
  numClasses: number;
  size: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function buildTfResNet18(tf: Tf, tfl: any, c: TfResNetConfig, sd: Map<string, HostTensor>): any {
  const L = tfl.layers;
  const get = (name: string): HostTensor => {
    const t = sd.get(name);
    if (!t) throw new Error(`initial state has no ${name}`);
    return t;
  };
  const conv = (x: unknown, name: string, k: number, stride: number) => {
    const w = get(`${name}.weight`);
    const pad = (k - 1) >> 1;
    let y = x;
    let padding = 'valid';
    if (pad > 0 && stride === 1) padding = 'same';
    else if (pad > 0) y = L.zeroPadding2d({ padding: pad }).apply(y);
    return L
      .conv2d({
        name: name.replace(/\./g, '_'), filters: w.shape[0], kernelSize: k, strides: stride, padding, useBias: false,
        weights: [tf.tensor(oihwToHwio(w), [k, k, w.shape[1], w.shape[0]])],
      })
      .apply(y);
  };
  const bn = (x: unknown, name: string) =>
    L
      .batchNormalization({
        name: name.replace(/\./g, '_'), axis: -1, momentum: 0.9, epsilon: 1e-5,
        weights: ['weight', 'bias', 'running_mean', 'running_var'].map((p) => tf.tensor(get(`${name}.${p}`).data)),
      })
      .apply(x);
  const relu = (x: unknown) => L.reLU().apply(x);
  const input = tfl.input({ shape: [c.size, c.size, 1] });
  let h = relu(bn(conv(input, 'conv1', c.stem === 'cifar' ? 3 : 7, c.stem === 'cifar' ? 1 : 2), 'bn1'));
  if (c.stem === 'imagenet') h = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }).apply(L.zeroPadding2d({ padding: 1 }).apply(h));
  let inC = c.width;
  for (let stage = 1; stage <= 4; stage++) {
    const outC = c.width << (stage - 1);
    for (let blk = 0; blk < 2; blk++) {
      const p = `layer${stage}.${blk}`;
      const stride = stage > 1 && blk === 0 ? 2 : 1;
      let out = relu(bn(conv(h, `${p}.conv1`, 3, stride), `${p}.bn1`));
      out = bn(conv(out, `${p}.conv2`, 3, 1), `${p}.bn2`);
      const id = stride !== 1 || inC !== outC ? bn(conv(h, `${p}.downsample.0`, 1, stride), `${p}.downsample.1`) : h;
      h = relu(L.add().apply([out, id]));
      inC = outC;
    }
  }
  const fcw = get('fc.weight');
  const logits = L
    .dense({
      name: 'fc', units: c.numClasses,
      weights: [tf.tensor(transpose2d(fcw.data, fcw.shape[0]!, fcw.shape[1]!), [fcw.shape[1], fcw.shape[0]]), tf.tensor(get('fc.bias').data)],
    })
    .apply(L.globalAveragePooling2d({}).apply(h));
  return tfl.model({ inputs: input, outputs: logits });
}

/** A TF.js variable's value back in torch layout (for the after-one-step agreement check). */
export function toTorchLayout(data: Float32Array, tfShape: number[]): Float32Array {
  if (tfShape.length === 4) {
    const [H, W, I, O] = tfShape as [number, number, number, number];
    const out = new Float32Array(data.length);
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[((o * I + i) * H + h) * W + w] = data[((h * W + w) * I + i) * O + o]!;
    return out;
  }
  if (tfShape.length === 2) return transpose2d(data, tfShape[0]!, tfShape[1]!);
  return data;
}

/** The TF.js layer weight holding torch parameter `name` (conv1.weight, fc.bias, layer1.0.bn1.weight, …). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function tfParam(model: any, name: string): any {
  const dot = name.lastIndexOf('.');
  const layer = model.getLayer(name.slice(0, dot).replace(/\./g, '_'));
  const which = name.slice(dot + 1);
  const idx = { weight: 0, bias: 1, running_mean: 2, running_var: 3 }[which];
  if (idx === undefined) throw new Error(`no TF.js weight for ${name}`);
  return layer.getWeights()[idx];
}
