// The BackMix paper's own numbers (Bransby et al., Tables 1 and 2 and the ablation), measured on
// TMED-2 (i.d.) and WASE Normals (o.o.d.) with ResNet18: printed beside ours, which come from
// whatever data the grid ran on (by default the synthetic benchmark). Percentages.

export interface PaperRow {
  idAccuracy?: number;
  idF1?: number;
  idE?: number;
  idF?: number;
  oodAccuracy: number;
  oodPrecision?: number;
  oodRecall?: number;
  oodF1: number;
  oodE: number;
  oodF: number;
}

/**
 * Table 1 by method (the paper's SMA row has no counterpart here; 'bokeh-blur' is ours). The
 * Black and CutMix rows come from a text copy of the table whose cells were out of order; they
 * are placed by the pattern of the other rows (F1 just under accuracy, %F above %E).
 */
export const PAPER_TABLE1: Record<string, PaperRow> = {
  none: { idAccuracy: 97.7, idF1: 97.5, idE: 77.9, idF: 92.3, oodAccuracy: 88.7, oodF1: 88.0, oodE: 79.5, oodF: 94.3 },
  black: { idAccuracy: 96.2, idF1: 95.7, idE: 81.8, idF: 97.4, oodAccuracy: 89.8, oodF1: 89.4, oodE: 80.8, oodF: 96.8 },
  noise: { idAccuracy: 95.5, idF1: 95.0, idE: 83.7, idF: 97.4, oodAccuracy: 89.3, oodF1: 88.8, oodE: 81.9, oodF: 96.5 },
  shuffle: { idAccuracy: 96.6, idF1: 96.2, idE: 82.6, idF: 96.8, oodAccuracy: 89.9, oodF1: 89.4, oodE: 82.1, oodF: 96.2 },
  bokeh: { idAccuracy: 97.2, idF1: 96.9, idE: 77.6, idF: 93.9, oodAccuracy: 87.9, oodF1: 87.1, oodE: 78.8, oodF: 95.4 },
  cutmix: { idAccuracy: 97.9, idF1: 97.7, idE: 70.3, idF: 89.1, oodAccuracy: 88.6, oodF1: 87.6, oodE: 73.2, oodF: 90.9 },
  backmix: { idAccuracy: 96.9, idF1: 96.2, idE: 86.2, idF: 97.8, oodAccuracy: 92.4, oodF1: 92.1, oodE: 85.6, oodF: 97.8 },
};

/** Table 2 (o.o.d. only) by our group names. */
export const PAPER_TABLE2: Record<string, PaperRow> = {
  none: { oodAccuracy: 88.7, oodPrecision: 91.2, oodRecall: 87.1, oodF1: 88.0, oodE: 79.5, oodF: 94.3 },
  'backmix f=1': { oodAccuracy: 92.4, oodPrecision: 92.9, oodRecall: 91.7, oodF1: 92.1, oodE: 85.6, oodF: 97.8 },
  'backmix f=0.5': { oodAccuracy: 91.7, oodPrecision: 92.9, oodRecall: 90.6, oodF1: 91.4, oodE: 84.9, oodF: 98.0 },
  'backmix f=0.2': { oodAccuracy: 91.2, oodPrecision: 92.3, oodRecall: 90.1, oodF1: 90.7, oodE: 84.4, oodF: 97.4 },
  'backmix f=0.1': { oodAccuracy: 90.4, oodPrecision: 92.2, oodRecall: 89.5, oodF1: 90.2, oodE: 84.2, oodF: 97.0 },
  'backmix f=0.05': { oodAccuracy: 90.8, oodPrecision: 92.0, oodRecall: 89.5, oodF1: 90.2, oodE: 83.0, oodF: 97.4 },
  'backmix f=0.01': { oodAccuracy: 90.3, oodPrecision: 91.7, oodRecall: 89.2, oodF1: 89.6, oodE: 81.4, oodF: 96.4 },
  'wbackmix f=0.05 λ=1': { oodAccuracy: 91.4, oodPrecision: 92.4, oodRecall: 90.5, oodF1: 91.1, oodE: 83.3, oodF: 97.2 },
  'wbackmix f=0.05 λ=2': { oodAccuracy: 91.3, oodPrecision: 92.5, oodRecall: 90.2, oodF1: 90.9, oodE: 83.7, oodF: 97.5 },
};

/** The ablation's standard deviations over five disjoint 5% subsets (o.o.d.). */
export const PAPER_ABLATION_STD = { accuracy: 0.55, f1: 0.55, percentE: 1.01, percentF: 0.7 };
