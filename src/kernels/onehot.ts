// Launcher for shaders/onehot.wgsl: one-hot rows at argmax(logits) or at given labels.
import type { Runtime } from './runtime.js';
import type { BufferLike } from './encoder.js';

const WG = 64;

/** seed[n,:] = one-hot(target_n). logits: [N,K] f32; labels: [N] u32 or null (then argmax); seed: [N,K] f32. */
export function oneHotTarget(rt: Runtime, logits: BufferLike, labels: BufferLike | null, seed: BufferLike, N: number, K: number): void {
  if (N > 65535 * WG) throw new RangeError(`oneHotTarget: N = ${N} is too large for one dispatch`);
  rt.dispatch({
    label: `onehot ${labels ? 'labels' : 'argmax'} ${N}x${K}`,
    shader: 'onehot.wgsl',
    constants: { WG, USE_LABELS: labels !== null },
    params: { N, K },
    // Overrides keep both inputs statically used, so both are bound; the unused one is a stand-in.
    bindings: { logits, labels: labels ?? logits, seed },
    workgroups: [Math.ceil(N / WG)],
  });
}
