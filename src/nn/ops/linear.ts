// y = x·Wᵀ + b, PyTorch layout: x [N,in], W [out,in], b [out].
import { Tensor } from '../tensor.js';
import { record, addGrad, expectShape } from '../tape.js';
import { linearForward, linearBackward } from '../../kernels/linear.js';

export function linear(x: Tensor, W: Tensor, b: Tensor | null): Tensor {
  const [N, inF] = x.shape as [number, number];
  const outF = W.shape[0]!;
  expectShape('linear', 'W', W.shape, [outF, inF]);
  if (b) expectShape('linear', 'bias', b.shape, [outF]);
  const shape = { N, inFeatures: inF, outFeatures: outF, label: 'linear' };
  const y = Tensor.empty(x.rt, [N, outF], 'linear');
  linearForward(x.rt, x.buffer, W.buffer, b?.buffer ?? null, y.buffer, shape);
  record('linear', b ? [x, W, b] : [x, W], [y], [x, W], () => {
    const dy = y.grad!.buffer;
    addGrad(x, (dx, acc) => linearBackward(x.rt, { x: x.buffer, W: W.buffer, dy, dx: dx.buffer }, { ...shape, accumulateDx: acc }));
    addGrad(W, (dW, acc) => linearBackward(x.rt, { x: x.buffer, W: W.buffer, dy, dW: dW.buffer }, { ...shape, accumulateParams: acc }));
    if (b) addGrad(b, (db, acc) => linearBackward(x.rt, { x: x.buffer, W: W.buffer, dy, db: db.buffer }, { ...shape, accumulateParams: acc }));
  });
  return y;
}
