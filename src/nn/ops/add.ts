// a + b for same-shaped tensors (the residual sum of a BasicBlock).
import { Tensor } from '../tensor.js';
import { record, addGrad, expectShape } from '../tape.js';
import { add as addKernel, axpby, accumulate } from '../../kernels/elementwise.js';

export function add(a: Tensor, b: Tensor): Tensor {
  expectShape('add', 'b', b.shape, a.shape);
  const y = Tensor.empty(a.rt, a.shape, 'add');
  addKernel(a.rt, a.size, a.buffer, b.buffer, y.buffer);
  record('add', [a, b], [y], [], () => {
    const g = y.grad!;
    for (const t of [a, b]) {
      addGrad(t, (dst, acc) => {
        if (acc) accumulate(t.rt, t.size, g.buffer, dst.buffer);
        else axpby(t.rt, t.size, 1, g.buffer, 0, g.buffer, dst.buffer);
      });
    }
  });
  return y;
}
