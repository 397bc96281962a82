// Module: a named tree of parameters and buffers, addressed by torchvision-style dotted names
// (`layer1.0.bn1.running_var`), so state dicts map one-to-one onto safetensors keys.
import { Tensor } from './tensor.js';

export type BufferKind = 'parameter' | 'buffer';

export interface NamedTensor {
  name: string;
  tensor: Tensor;
  kind: BufferKind;
}

/** A host-side integer in the state dict (BatchNorm's num_batches_tracked, I64 in torch). */
export interface NamedCounter {
  name: string;
  get: () => bigint;
  set: (v: bigint) => void;
}

export abstract class Module {
  training = true;
  private readonly children: [string, Module][] = [];
  private readonly own: NamedTensor[] = [];
  private readonly counters: NamedCounter[] = [];

  protected addCounter(name: string, get: () => bigint, set: (v: bigint) => void): void {
    this.counters.push({ name, get, set });
  }

  namedCounters(prefix = ''): NamedCounter[] {
    const out = this.counters.map((c) => ({ ...c, name: prefix + c.name }));
    for (const [name, child] of this.children) out.push(...child.namedCounters(`${prefix}${name}.`));
    return out;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.push([name, m]);
    return m;
  }

  protected addParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    t.keep();
    this.own.push({ name, tensor: t, kind: 'parameter' });
    return t;
  }

  protected addBuffer(name: string, t: Tensor): Tensor {
    t.keep();
    this.own.push({ name, tensor: t, kind: 'buffer' });
    return t;
  }

  /** Every parameter and buffer, depth-first in registration order (torch's state_dict order). */
  namedTensors(prefix = ''): NamedTensor[] {
    const out = this.own.map((n) => ({ ...n, name: prefix + n.name }));
    for (const [name, child] of this.children) out.push(...child.namedTensors(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedTensors().filter((n) => n.kind === 'parameter').map((n) => n.tensor);
  }

  train(on = true): this {
    this.training = on;
    for (const [, c] of this.children) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Marks every parameter's gradient stale: the next backward overwrites instead of adding. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.gradStale = true;
  }

  dispose(): void {
    for (const { tensor } of this.namedTensors()) {
      tensor.grad?.dispose();
      tensor.grad = null;
      tensor.dispose();
    }
  }
}
