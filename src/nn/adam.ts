// Adam over a model's parameters with the fused kernel: one dispatch per parameter tensor,
// torch.optim.Adam semantics (L2 weight decay added to the gradient; `decoupled` for AdamW).
import { Tensor } from './tensor.js';
import { adam as adamKernel, type AdamHyper } from '../kernels/adam.js';
import { fill } from '../kernels/elementwise.js';

export interface AdamState {
  step: number;
  /** exp_avg and exp_avg_sq per parameter, in parameter order. */
  m: Tensor[];
  v: Tensor[];
}

export class Adam {
  readonly hyper: Required<AdamHyper>;
  step = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];

  constructor(readonly params: Tensor[], hyper: AdamHyper) {
    this.hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...hyper };
    if (!(this.hyper.lr > 0)) throw new RangeError(`Adam: lr must be > 0, got ${hyper.lr}`);
    const zeros = (p: Tensor, what: string) => {
      const t = Tensor.empty(p.rt, p.shape, `adam.${what}`).keep();
      fill(p.rt, p.size, t.buffer, 0);
      return t;
    };
    this.m = params.map((p) => zeros(p, 'exp_avg'));
    this.v = params.map((p) => zeros(p, 'exp_avg_sq'));
  }

  /** One update of every parameter that received a gradient since the last zeroGrad. */
  update(): void {
    this.step++;
    this.params.forEach((p, i) => {
      if (!p.grad || p.gradStale) return;
      adamKernel(p.rt, p.buffer, p.grad.buffer, this.m[i]!.buffer, this.v[i]!.buffer, {
        ...this.hyper,
        n: p.size,
        step: this.step,
        label: `adam ${p.label}`,
      });
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
