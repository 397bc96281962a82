// relu(x) = max(x, 0); backward passes dy where the output is positive.
import { Tensor } from '../tensor.js';
import { record, addGrad } from '../tape.js';
import { relu as reluKernel, reluBackward } from '../../kernels/elementwise.js';

export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.rt, x.shape, 'relu');
  reluKernel(x.rt, x.size, x.buffer, y.buffer);
  // The output has the same sign pattern as the input where it matters, so save y (often
  // already kept for the next layer) instead of x.
  record('relu', [x], [y], [y], () => {
    addGrad(x, (dx) => reluBackward(x.rt, x.size, y.buffer, y.grad!.buffer, dx.buffer), false);
  });
  return y;
}
