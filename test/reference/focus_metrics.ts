// float64 reference for shaders/focus_metrics.wgsl: the BackMix paper's focus metrics (§2.4).
// z: [N,P] CAM in [0,1]; m: [N,P] sector mask (inside iff m > 0.5); P = H·W.
//   E_n = Σ_{p∈mask} z_p / Σ_p z_p                   (excluded when valid[n] = 0 or Σz = 0)
//   F_n = |{z_p > 0.5} ∩ mask| / |{z_p > 0.5}|       (excluded when valid[n] = 0 or no z_p > 0.5)
// include[n] = 0 skips image n entirely (not counted as excluded).
// stats = [Σ E_n, count_E, Σ F_n, count_F, excluded_E, excluded_F, skipped, images].

/** Per-image value for an image excluded from a metric (its CAM carries no focus). */
export const FOCUS_EXCLUDED = -1;
/** Per-image value for an image skipped by `include` (e.g. it has no sector mask). */
export const FOCUS_SKIPPED = -2;

export interface FocusRef {
  /** [N] E_n, or FOCUS_EXCLUDED / FOCUS_SKIPPED. */
  E: Float64Array;
  F: Float64Array;
  stats: Float64Array;
}

export function focusMetricsRef(
  z: ArrayLike<number>, m: ArrayLike<number>, N: number, P: number,
  valid?: ArrayLike<number> | null, include?: ArrayLike<number> | null,
): FocusRef {
  const E = new Float64Array(N);
  const F = new Float64Array(N);
  const stats = new Float64Array(8);
  stats[7] = N;
  for (let n = 0; n < N; n++) {
    if (include && include[n] === 0) {
      E[n] = F[n] = FOCUS_SKIPPED;
      stats[6]!++;
      continue;
    }
    let sz = 0;
    let szm = 0;
    let hi = 0;
    let him = 0;
    for (let p = 0; p < P; p++) {
      const v = z[n * P + p]!;
      const inside = m[n * P + p]! > 0.5;
      sz += v;
      if (inside) szm += v;
      if (v > 0.5) {
        hi++;
        if (inside) him++;
      }
    }
    const ok = !valid || valid[n] !== 0;
    if (ok && sz > 0) {
      E[n] = szm / sz;
      stats[0]! += E[n]!;
      stats[1]!++;
    } else {
      E[n] = FOCUS_EXCLUDED;
      stats[4]!++;
    }
    if (ok && hi > 0) {
      F[n] = him / hi;
      stats[2]! += F[n]!;
      stats[3]!++;
    } else {
      F[n] = FOCUS_EXCLUDED;
      stats[5]!++;
    }
  }
  return { E, F, stats };
}
