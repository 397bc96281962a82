// Classification metrics from a confusion matrix, as sklearn's classification_report computes
// them (the BackMix reference's evaluation): per-class precision/recall/F1 with 0 where
// undefined, macro (unweighted mean over classes) and weighted (by support) averages.

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  total: number;
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  /** confusion[true][pred] */
  confusion: number[][];
  classes: string[];
}

export function confusionMatrix(labels: ArrayLike<number>, preds: ArrayLike<number>, k: number): number[][] {
  if (labels.length !== preds.length) throw new RangeError(`confusionMatrix: ${labels.length} labels but ${preds.length} predictions`);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = preds[i]!;
    if (!(t >= 0 && t < k) || !(p >= 0 && p < k)) throw new RangeError(`confusionMatrix: label ${t} or prediction ${p} outside [0, ${k})`);
    m[t]![p]!++;
  }
  return m;
}

export function classificationReport(confusion: number[][], classes: string[]): ClassificationReport {
  const k = classes.length;
  const perClass: ClassMetrics[] = [];
  let correct = 0;
  let total = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ name: classes[c]!, precision, recall, f1, support });
    correct += tp;
    total += support;
  }
  const avg = (f: (m: ClassMetrics) => number, weighted: boolean) => {
    const w = perClass.reduce((a, m) => a + (weighted ? m.support : 1), 0);
    return w > 0 ? perClass.reduce((a, m) => a + f(m) * (weighted ? m.support : 1), 0) / w : 0;
  };
  const summary = (weighted: boolean) => ({
    precision: avg((m) => m.precision, weighted),
    recall: avg((m) => m.recall, weighted),
    f1: avg((m) => m.f1, weighted),
  });
  return {
    accuracy: total > 0 ? correct / total : 0,
    total,
    perClass,
    macro: summary(false),
    weighted: summary(true),
    confusion,
    classes,
  };
}

/** Mean and sample standard deviation (n − 1), as reported across seeds. */
export function meanStd(values: number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}
