// 2-D convolution, NCHW activations and OIHW weights, square kernels, symmetric padding.
import { Tensor, shapeStr } from '../tensor.js';
import { record, gradSlot } from '../tape.js';
import {
  conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, type Conv2dShape,
} from '../../kernels/conv2d.js';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOptions = {}): Tensor {
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    throw new RangeError(`conv2d: x ${shapeStr(x.shape)} and w ${shapeStr(w.shape)} must both be 4-D (NCHW, OIHW)`);
  }
  const [N, Ci, H, W] = x.shape as [number, number, number, number];
  const [Co, wCi, KH, KW] = w.shape as [number, number, number, number];
  if (wCi !== Ci) throw new RangeError(`conv2d: x has ${Ci} channels ${shapeStr(x.shape)} but w expects ${wCi} ${shapeStr(w.shape)}`);
  if (b && (b.shape.length !== 1 || b.shape[0] !== Co)) throw new RangeError(`conv2d: bias ${shapeStr(b.shape)} must be [${Co}]`);
  const s: Conv2dShape = { N, Ci, H, W, Co, KH, KW, stride: o.stride ?? 1, pad: o.pad ?? 0 };
  const { Ho, Wo } = conv2dOutputSize(s);
  const y = Tensor.empty(x.rt, [N, Co, Ho, Wo], 'conv2d');
  conv2dForward(x.rt, x.buffer, w.buffer, b?.buffer ?? null, y.buffer, s);
  record('conv2d', b ? [x, w, b] : [x, w], [y], [x, w], () => {
    const dy = y.grad!.buffer;
    const dx = gradSlot(x);
    if (dx.dst) conv2dBackwardInput(x.rt, dy, w.buffer, dx.dst.buffer, s, { accumulate: dx.accumulate });
    dx.done();
    // dw and db share one accumulate flag in the kernel; parameters are always in step.
    const dw = gradSlot(w);
    const db = b ? gradSlot(b, dw.accumulate) : null;
    if (db?.dst && dw.dst && db.accumulate !== dw.accumulate) {
      throw new Error('conv2d: weight and bias gradients are out of step (zeroGrad one but not the other)');
    }
    if (dw.dst) conv2dBackwardWeight(x.rt, x.buffer, dy, dw.dst.buffer, db?.dst?.buffer ?? null, s, { accumulate: dw.accumulate });
    dw.done();
    db?.done();
  });
  return y;
}
