// float64 reference for shaders/cross_entropy.wgsl: weighted softmax cross-entropy.
// logits: [N,K]; target: labels [N] or soft [N,K]; weights: [N] (null = all 1).
// loss = (1/N)·Σ_i w_i·CE_i (BackMix's reduction: mean over the batch, not over Σw).

export type CeTargetRef = { labels: ArrayLike<number> } | { soft: ArrayLike<number> };

export interface CeRefResult {
  /** [N] unweighted per-example CE. */
  ce: Float64Array;
  /** (1/N)·Σ w·CE. */
  loss: number;
  weightedSum: number;
  sum: number;
  /** [N,K] d(gradScale·loss)/d logits. */
  dlogits: Float64Array;
  /** [N] first argmax of each row. */
  pred: Uint32Array;
  /** [N] pred == label (or argmax of the soft target). */
  correct: Uint32Array;
  correctCount: number;
}

function argmax(a: ArrayLike<number>, base: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (a[base + k]! > a[base + best]!) best = k;
  return best;
}

/** Target row i as K probabilities (one-hot for hard labels). */
function targetRow(t: CeTargetRef, i: number, K: number): Float64Array {
  const row = new Float64Array(K);
  if ('labels' in t) row[t.labels[i]!] = 1;
  else for (let k = 0; k < K; k++) row[k] = t.soft[i * K + k]!;
  return row;
}

export function crossEntropyRef(
  logits: ArrayLike<number>, target: CeTargetRef, weights: ArrayLike<number> | null,
  N: number, K: number, gradScale = 1,
): CeRefResult {
  const ce = new Float64Array(N);
  const dlogits = new Float64Array(N * K);
  const pred = new Uint32Array(N);
  const correct = new Uint32Array(N);
  let weightedSum = 0;
  let sum = 0;
  let correctCount = 0;
  for (let i = 0; i < N; i++) {
    const base = i * K;
    let zmax = -Infinity;
    for (let k = 0; k < K; k++) zmax = Math.max(zmax, logits[base + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[base + k]! - zmax);
    const lse = zmax + Math.log(s);
    const t = targetRow(target, i, K);
    let tsum = 0;
    let l = 0;
    for (let k = 0; k < K; k++) {
      // −log softmax_k = lse − z_k, written as (zmax − z_k) + log s to keep precision at 1e4.
      if (t[k] !== 0) l += t[k]! * (zmax - logits[base + k]! + Math.log(s));
      tsum += t[k]!;
    }
    const w = weights ? weights[i]! : 1;
    ce[i] = l;
    weightedSum += w * l;
    sum += l;
    const g = (gradScale * w) / N;
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits[base + k]! - lse);
      dlogits[base + k] = g * (tsum * p - t[k]!);
    }
    pred[i] = argmax(logits, base, K);
    const want = 'labels' in target ? target.labels[i]! : argmax(t, 0, K);
    correct[i] = pred[i] === want ? 1 : 0;
    correctCount += correct[i]!;
  }
  return { ce, loss: weightedSum / N, weightedSum, sum, dlogits, pred, correct, correctCount };
}

/** wBackMix weights: 1 − λf for unmasked samples, 1 + λ(1−f) for masked ones. */
export function wBackMixWeights(masked: boolean[], lambda: number, f: number): Float32Array {
  return Float32Array.from(masked, (m) => (m ? 1 + lambda * (1 - f) : 1 - lambda * f));
}
