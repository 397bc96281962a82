// Plain-text and markdown renderings of evaluation results.
import type { CheckpointEvaluation, SeedAggregate } from '../train/api.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function evaluationMarkdown(e: CheckpointEvaluation): string {
  const r = e.result.report;
  const f = e.result.focus;
  const lines = [
    `# Evaluation: ${e.checkpoint}`,
    '',
    `data: ${e.data} — split: ${e.split} — ${e.result.n} images`,
    '',
    `| metric | value |`,
    `|---|---|`,
    `| accuracy | ${pct(r.accuracy)} |`,
    `| loss | ${e.result.loss.toFixed(4)} |`,
    `| macro precision / recall / F1 | ${pct(r.macro.precision)} / ${pct(r.macro.recall)} / ${pct(r.macro.f1)} |`,
    `| weighted precision / recall / F1 | ${pct(r.weighted.precision)} / ${pct(r.weighted.recall)} / ${pct(r.weighted.f1)} |`,
    f
      ? `| %E / %F (GradCAM focus in the sector) | ${f.percentE.toFixed(1)}% / ${f.percentF.toFixed(1)}% (${f.imagesE}/${f.imagesF} images; ${f.excludedE}/${f.excludedF} excluded with an empty CAM) |`
      : `| %E / %F | unavailable: ${e.result.focusUnavailable} |`,
    '',
    '| class | precision | recall | F1 | support |',
    '|---|---|---|---|---|',
    ...r.perClass.map((c) => `| ${c.name} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`),
    '',
    'Confusion matrix (rows: true, columns: predicted)',
    '',
    `| | ${r.classes.join(' | ')} |`,
    `|---|${r.classes.map(() => '---').join('|')}|`,
    ...r.confusion.map((row, i) => `| **${r.classes[i]}** | ${row.join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}

export function aggregateMarkdown(a: SeedAggregate, split: string): string {
  const ms = (v: { mean: number; std: number } | null) => (v ? `${v.mean.toFixed(1)} ± ${v.std.toFixed(1)}` : 'unavailable');
  return [
    `# ${a.runs} runs, split ${split} (mean ± std)`,
    '',
    '| accuracy | macro F1 | weighted F1 | %E | %F |',
    '|---|---|---|---|---|',
    `| ${ms(a.accuracy)} | ${ms(a.macroF1)} | ${ms(a.weightedF1)} | ${ms(a.percentE)} | ${ms(a.percentF)} |`,
    '',
  ].join('\n');
}
