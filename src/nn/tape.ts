// A small tape autograd. Ops record a node (saved tensors + a backward closure) while a tape
// is started and gradients are enabled; `tape.backward()` replays the nodes in reverse, each
// turning its outputs' gradients into its inputs' gradients, and frees what backward no longer
// needs. There is no loss argument and no seed: the caller puts the root gradient in place first.
import { Tensor, shapeStr } from './tensor.js';
import { accumulate } from '../kernels/elementwise.js';

export interface TapeNode {
  label: string;
  inputs: Tensor[];
  outputs: Tensor[];
  /** Tensors kept alive for backward (retained at record time, disposed after backward). */
  saved: Tensor[];
  backward: () => void;
}

let gradEnabled = true;
let active: Tape | null = null;

export class Tape {
  readonly nodes: TapeNode[] = [];

  /** Makes this the tape ops record onto, until `stop()`. */
  start(): this {
    active = this;
    return this;
  }

  stop(): void {
    if (active === this) active = null;
  }

  /**
   * Runs every recorded node's backward, last to first, then empties the tape and stops it.
   * It takes no arguments: the root gradient must already sit in `grad` of some op's output —
   * crossEntropyLoss writes d(loss)/d(logits) into `logits.grad` during the forward pass and
   * records no node of its own; GradCAM sets a one-hot `logits.grad` by hand. A node whose
   * outputs have no gradient is skipped. After a node has run, its outputs' gradients are
   * disposed and its saved tensors released, so only leaf gradients (parameters, and inputs
   * marked requiresGrad) survive the call.
   */
  backward(): void {
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      const hasGrad = node.outputs.some((o) => o.grad !== null);
      if (hasGrad) node.backward();
      for (const o of node.outputs) {
        o.grad?.dispose();
        o.grad = null;
      }
      for (const s of node.saved) s.release();
      node.saved = [];
    }
    this.nodes.length = 0;
    this.stop();
  }

  /** Drops every node without running backward (e.g. after a forward pass that failed). */
  clear(): void {
    for (const node of this.nodes) {
      for (const s of node.saved) s.release();
      node.saved = [];
    }
    this.nodes.length = 0;
    this.stop();
  }
}

export function isRecording(inputs: Tensor[]): boolean {
  return gradEnabled && active !== null && inputs.some((t) => t.requiresGrad);
}

/**
 * Records an op. `outputs` get requiresGrad; `saved` tensors are retained until the node's
 * backward has run.
 */
export function record(label: string, inputs: Tensor[], outputs: Tensor[], saved: Tensor[], backward: () => void): void {
  if (!isRecording(inputs)) return;
  for (const o of outputs) o.requiresGrad = true;
  for (const s of saved) s.retain();
  active!.nodes.push({ label, inputs, outputs, saved, backward });
}

/** Runs `fn` without recording (evaluation, GradCAM's forward to the target layer, …). */
export async function noGrad<T>(fn: () => Promise<T> | T): Promise<T> {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return await fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Adds a gradient contribution to `t.grad`. `write(dst, accumulate)` launches the kernel that
 * produces the contribution: into a fresh buffer (accumulate=false) for the first one, then
 * summed in place. Kernels without an accumulate mode pass `canAccumulate=false`; their later
 * contributions go through a temporary and an in-place add.
 */
export function addGrad(t: Tensor, write: (dst: Tensor, accumulate: boolean) => void, canAccumulate = true): void {
  if (!t.requiresGrad) return;
  if (t.grad === null) {
    t.grad = Tensor.empty(t.rt, t.shape, `grad(${t.label})`).keep();
    write(t.grad, false);
  } else if (t.gradStale) {
    write(t.grad, false);
  } else if (canAccumulate) {
    write(t.grad, true);
  } else {
    const tmp = Tensor.empty(t.rt, t.shape, `grad-part(${t.label})`);
    write(tmp, false);
    accumulate(t.rt, t.size, tmp.buffer, t.grad.buffer);
    tmp.dispose();
  }
  t.gradStale = false;
}

/** Throws a shape error naming the op when `got` differs from `want`. */
export function expectShape(op: string, what: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new RangeError(`${op}: ${what} has shape ${shapeStr(got)}, expected ${shapeStr(want)}`);
  }
}

export interface GradSlot {
  /** Where the kernel writes; null when `t` needs no gradient. */
  dst: Tensor | null;
  /** Whether the kernel must add into `dst` rather than overwrite it. */
  accumulate: boolean;
  /** Call after the kernel: folds a temporary into `t.grad` when the kernel could not accumulate. */
  done: () => void;
}

/**
 * addGrad for kernels that write several gradients in one dispatch (e.g. BatchNorm's dx, dγ,
 * dβ): returns where to write each one, then `done()` settles it.
 */
export function gradSlot(t: Tensor, canAccumulate = true): GradSlot {
  if (!t.requiresGrad) return { dst: null, accumulate: false, done: () => {} };
  const settle = () => {
    t.gradStale = false;
  };
  if (t.grad === null) {
    t.grad = Tensor.empty(t.rt, t.shape, `grad(${t.label})`).keep();
    return { dst: t.grad, accumulate: false, done: settle };
  }
  if (t.gradStale) return { dst: t.grad, accumulate: false, done: settle };
  if (canAccumulate) return { dst: t.grad, accumulate: true, done: settle };
  const tmp = Tensor.empty(t.rt, t.shape, `grad-part(${t.label})`);
  return {
    dst: tmp,
    accumulate: false,
    done: () => {
      accumulate(t.rt, t.size, tmp.buffer, t.grad!.buffer);
      tmp.dispose();
      settle();
    },
  };
}
