// float64 reference for shaders/adam.wgsl: torch.optim.Adam / AdamW's single-tensor step,
// operation by operation (torch/optim/adam.py `_single_tensor_adam`, amsgrad off).

export interface AdamRefHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/** One step t (1-based) in place on p, m (exp_avg), v (exp_avg_sq). */
export function adamRefStep(
  p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamRefHyper, t: number,
): void {
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  const stepSize = h.lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]!;
    if (h.decoupled) p[i] = p[i]! * (1 - h.lr * h.weightDecay);
    else gi = gi + h.weightDecay * p[i]!;
    m[i] = m[i]! + (1 - h.beta1) * (gi - m[i]!);
    v[i] = v[i]! * h.beta2 + (1 - h.beta2) * gi * gi;
    const denom = Math.sqrt(v[i]!) / bc2Sqrt + h.eps;
    p[i] = p[i]! - stepSize * (m[i]! / denom);
  }
}
