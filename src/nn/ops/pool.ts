// Max pooling (torchvision's 3×3/2 stem pool) and global average pooling over NCHW.
import { Tensor, shapeStr } from '../tensor.js';
import { record, gradSlot } from '../tape.js';
import {
  maxPool2dForward, maxPool2dBackward, maxPool2dOutputShape, globalAvgPoolForward, globalAvgPoolBackward,
  type MaxPool2dParams,
} from '../../kernels/pool.js';
import type { Shape4 } from '../../kernels/reduce.js';

function shape4(op: string, x: Tensor): Shape4 {
  if (x.shape.length !== 4) throw new RangeError(`${op}: x ${shapeStr(x.shape)} must be [N,C,H,W]`);
  return x.shape as unknown as Shape4;
}

export function maxPool2d(x: Tensor, o: { kernel: number; stride: number; pad: number }): Tensor {
  const shape = shape4('maxPool2d', x);
  const params: MaxPool2dParams = { kernel: o.kernel, stride: o.stride, padding: o.pad };
  const outShape = maxPool2dOutputShape(shape, params);
  const y = Tensor.empty(x.rt, outShape, 'maxpool');
  const indices = Tensor.empty(x.rt, outShape, 'maxpool.argmax', 'u32');
  maxPool2dForward(x.rt, x.buffer, y.buffer, indices.buffer, shape, params);
  record('maxpool', [x], [y], [indices], () => {
    const dx = gradSlot(x);
    if (dx.dst) maxPool2dBackward(x.rt, y.grad!.buffer, indices.buffer, dx.dst.buffer, shape, params, { accumulate: dx.accumulate });
    dx.done();
  });
  indices.dispose();
  return y;
}

/** [N,C,H,W] → [N,C], the mean over H·W. */
export function globalAvgPool(x: Tensor): Tensor {
  const shape = shape4('globalAvgPool', x);
  const y = Tensor.empty(x.rt, [shape[0], shape[1]], 'avgpool');
  globalAvgPoolForward(x.rt, x.buffer, y.buffer, shape);
  record('avgpool', [x], [y], [], () => {
    const dx = gradSlot(x);
    if (dx.dst) globalAvgPoolBackward(x.rt, y.grad!.buffer, dx.dst.buffer, shape, { accumulate: dx.accumulate });
    dx.done();
  });
  return y;
}
