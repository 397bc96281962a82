// wBackMix per-example loss weights (paper §2.3, reference train_vc_weighted.py): with the
// nominal fraction f and strength λ, samples outside the masked subset weigh 1 − λf and
// samples in it 1 + λ(1 − f). The loss is mean(w·CE) over the batch, not divided by Σw, so
// the weights average to 1 exactly when the subset holds f·N samples.

export function unmaskedWeight(fraction: number, lambda: number): number {
  return 1 - lambda * fraction;
}

export function maskedWeight(fraction: number, lambda: number): number {
  return 1 + lambda * (1 - fraction);
}

/**
 * weights: [B] f32, one per batch sample. `member[i]` = 1 iff dataset sample i is in the
 * masked subset. With `active` false (methods that use no mask) every weight is 1.
 */
export function batchWeights(
  indices: readonly number[],
  member: Uint8Array,
  fraction: number,
  lambda: number,
  active = true,
): Float32Array {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`wBackMix: fraction must be in [0, 1], got ${fraction}`);
  if (!Number.isFinite(lambda) || lambda < 0) throw new RangeError(`wBackMix: lambda must be a finite number ≥ 0, got ${lambda}`);
  const w = new Float32Array(indices.length);
  if (!active) return w.fill(1);
  const lo = unmaskedWeight(fraction, lambda);
  const hi = maskedWeight(fraction, lambda);
  indices.forEach((i, b) => {
    w[b] = member[i] ? hi : lo;
  });
  return w;
}
