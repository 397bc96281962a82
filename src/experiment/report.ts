// The report of a grid: mean ± sample std over seeds of every metric per group, laid out like the
// paper's tables with the paper's numbers beside ours, as report.md and report.json; plots
// (vega-lite → SVG + PNG); and a GradCAM contact sheet per group from its median seed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { meanStd } from '../train/metrics.js';
import { renderSvg, writeSvgAndPng } from '../train/plots.js';
import { writeGradCamImages } from '../train/gradcam_images.js';
import { syntheticDir } from '../train/trainer.js';
import { writeFileAtomicSync } from '../nn/atomic_write.js';
import type { CellResult, SplitSummary } from './cell.js';
import type { Grid } from './grid.js';
import { slug } from './grid.js';
import type { ResolvedCell } from './protocol.js';
import { PAPER_ABLATION_STD, PAPER_TABLE1, PAPER_TABLE2, type PaperRow } from './paper.js';

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export const METRICS = ['accuracy', 'macroPrecision', 'macroRecall', 'macroF1', 'percentE', 'percentF'] as const;
export type Metric = (typeof METRICS)[number];
type SplitStats = Record<Metric, Stat | null>;

export interface GroupReport {
  group: string;
  seeds: number[];
  /** Cells of the group without a result (failed or not run yet). */
  missing: string[];
  id: SplitStats | null;
  ood: SplitStats | null;
  /** The seed whose o.o.d. (else i.d.) accuracy is the median of the group: its GradCAM sheet. */
  medianCell: string | null;
  gradcamSheet?: string;
}

export interface ExperimentReport {
  grid: string;
  protocol: string;
  data: string;
  oodSplit: string | null;
  cells: number;
  finished: number;
  groups: GroupReport[];
  results: CellResult[];
  wallSeconds: number;
  command: string;
  failures: { id: string; message: string }[];
}

/** The o.o.d. split a cell reports: an --ood dataset when given, else the data's 'ood-test'. */
function oodOf(r: CellResult): SplitSummary | undefined {
  return r.splits.find((s) => s.split.startsWith('ood:')) ?? r.splits.find((s) => s.split === 'ood-test');
}

function statsOf(splits: SplitSummary[]): SplitStats | null {
  if (splits.length === 0) return null;
  const out = {} as SplitStats;
  for (const m of METRICS) {
    const pct = m === 'percentE' || m === 'percentF' ? 1 : 100;
    const vals = splits.map((s) => s[m]);
    // %E/%F over seeds only when every seed has it (no masks, or every CAM constant, gives null).
    out[m] = vals.every((v): v is number => v !== null && Number.isFinite(v)) ? { ...meanStd(vals.map((v) => v * pct)), n: vals.length } : null;
  }
  return out;
}

export function aggregate(grid: Grid, results: CellResult[]): GroupReport[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  return grid.groups.map((g) => {
    const cells = grid.cells.filter((c) => c.group === g.name);
    const done = cells.map((c) => byId.get(c.id)).filter((r): r is CellResult => !!r);
    const key = (r: CellResult) => (oodOf(r) ?? r.splits.find((s) => s.split === 'test'))?.accuracy ?? 0;
    const sorted = [...done].sort((a, b) => key(a) - key(b) || a.seed - b.seed);
    return {
      group: g.name,
      seeds: done.map((r) => r.seed),
      missing: cells.filter((c) => !byId.has(c.id)).map((c) => c.id),
      id: statsOf(done.flatMap((r) => r.splits.filter((s) => s.split === 'test'))),
      ood: statsOf(done.flatMap((r) => { const o = oodOf(r); return o ? [o] : []; })),
      medianCell: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]!.id : null,
    };
  });
}

const fmt = (s: Stat | null | undefined) => (s ? (s.n > 1 ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : s.mean.toFixed(1)) : '–');
const paperCell = (v: number | undefined) => (v === undefined ? '' : ` (${v.toFixed(1)})`);

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function table1Md(groups: GroupReport[]): string {
  const rows = groups.map((g) => {
    const p: PaperRow | undefined = PAPER_TABLE1[g.group];
    return [
      g.group,
      fmt(g.id?.accuracy) + paperCell(p?.idAccuracy), fmt(g.id?.macroF1) + paperCell(p?.idF1), fmt(g.id?.percentE) + paperCell(p?.idE), fmt(g.id?.percentF) + paperCell(p?.idF),
      fmt(g.ood?.accuracy) + paperCell(p?.oodAccuracy), fmt(g.ood?.macroF1) + paperCell(p?.oodF1), fmt(g.ood?.percentE) + paperCell(p?.oodE), fmt(g.ood?.percentF) + paperCell(p?.oodF),
    ];
  });
  return table(['method', 'i.d. accuracy', 'i.d. F1', 'i.d. %E', 'i.d. %F', 'o.o.d. accuracy', 'o.o.d. F1', 'o.o.d. %E', 'o.o.d. %F'], rows);
}

function oodTableMd(groups: GroupReport[], paper: Record<string, PaperRow>): string {
  const rows = groups.map((g) => {
    const p = paper[g.group];
    const o = g.ood;
    return [
      g.group,
      fmt(o?.accuracy) + paperCell(p?.oodAccuracy), fmt(o?.macroPrecision) + paperCell(p?.oodPrecision), fmt(o?.macroRecall) + paperCell(p?.oodRecall),
      fmt(o?.macroF1) + paperCell(p?.oodF1), fmt(o?.percentE) + paperCell(p?.oodE), fmt(o?.percentF) + paperCell(p?.oodF),
    ];
  });
  return table(['group', 'o.o.d. accuracy', 'precision', 'recall', 'F1', '%E', '%F'], rows);
}

function ablationMd(groups: GroupReport[]): string {
  const body = oodTableMd(groups, {});
  const per = (m: Metric) => groups.map((g) => g.ood?.[m]?.mean).filter((v): v is number => v !== undefined);
  const sd = (m: Metric) => {
    const v = per(m);
    return v.length > 1 ? meanStd(v).std.toFixed(2) : '–';
  };
  return `${body}\n\nStandard deviation over the ${groups.length} disjoint subsets (the paper's in brackets): accuracy ±${sd('accuracy')} (±${PAPER_ABLATION_STD.accuracy}), F1 ±${sd('macroF1')} (±${PAPER_ABLATION_STD.f1}), %E ±${sd('percentE')} (±${PAPER_ABLATION_STD.percentE}), %F ±${sd('percentF')} (±${PAPER_ABLATION_STD.percentF}).`;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Bars of mean ± std per group for the o.o.d. accuracy, %E and %F. */
function groupBarsSpec(groups: GroupReport[], title: string): TopLevelSpec {
  const rows = groups.flatMap((g) =>
    (['accuracy', 'percentE', 'percentF'] as const).flatMap((m) => {
      const s = g.ood?.[m];
      return s ? [{ group: g.group, metric: m === 'accuracy' ? 'o.o.d. accuracy' : m === 'percentE' ? 'o.o.d. %E' : 'o.o.d. %F', mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std }] : [];
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, background: 'white', padding: 12, config: { font: FONT },
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260, height: 220,
      layer: [
        { mark: 'bar', encoding: { x: { field: 'group', type: 'nominal', sort: null, title: null }, y: { field: 'mean', type: 'quantitative', title: '%', scale: { zero: false } }, color: { field: 'group', type: 'nominal', legend: null, sort: null } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { x: { field: 'group', type: 'nominal', sort: null }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      ],
    },
  } as TopLevelSpec;
}

/** o.o.d. accuracy against f (log scale) with ± std bars; wBackMix points and the baseline beside. */
function fractionSpec(groups: GroupReport[], grid: Grid): TopLevelSpec {
  const rows = groups.flatMap((g) => {
    const opts = grid.groups.find((x) => x.name === g.group)?.options;
    const s = g.ood?.accuracy;
    if (!opts || !s || opts.method !== 'backmix') return [];
    const series = opts.lambda ? `wBackMix λ=${opts.lambda}` : 'BackMix';
    return [{ f: opts.fraction, series, mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std }];
  });
  const base = groups.find((g) => g.group === 'none')?.ood?.accuracy;
  const layers: unknown[] = [
    { mark: { type: 'line', point: true }, encoding: { x: { field: 'f', type: 'quantitative', scale: { type: 'log' }, title: 'supervised fraction f' }, y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: 'o.o.d. accuracy (%)' }, color: { field: 'series', type: 'nominal', title: null } } },
    { mark: 'rule', encoding: { x: { field: 'f', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal' } } },
  ];
  if (base) layers.push({ data: { values: [{ y: base.mean }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'o.o.d. accuracy vs supervised fraction', subtitle: base ? 'dashed: no background treatment (none)' : '' },
    background: 'white', padding: 12, config: { font: FONT }, width: 420, height: 260,
    data: { values: rows }, layer: layers,
  } as TopLevelSpec;
}

export interface WriteReportOptions {
  dir: string;
  grid: Grid;
  cells: ResolvedCell[];
  results: CellResult[];
  protocol: string;
  command: string;
  wallSeconds: number;
  adapter?: string;
  /** GradCAM contact sheets (default true; opens the GPU). */
  gradcam?: boolean;
  /** Frames per contact sheet (default 16). */
  sheetFrames?: number;
  /** Cells that failed, with their errors: the report lists them. */
  failures?: { id: string; message: string }[];
}

export async function writeReport(o: WriteReportOptions): Promise<ExperimentReport> {
  const groups = aggregate(o.grid, o.results);
  const first = o.cells[0]!.config;
  const data = first.data ?? `the built-in synthetic benchmark (${first.synthN} frames per seed)`;
  const oodSplit = o.results.map((r) => oodOf(r)?.split).find((s) => s) ?? null;
  const plots: string[] = [];
  mkdirSync(o.dir, { recursive: true });
  if (o.grid.name === 'table2') {
    await writeSvgAndPng(join(o.dir, 'ood_vs_fraction'), await renderSvg(fractionSpec(groups, o.grid)));
    plots.push('ood_vs_fraction.png');
  }
  if (groups.some((g) => g.ood)) {
    await writeSvgAndPng(join(o.dir, 'ood_by_group'), await renderSvg(groupBarsSpec(groups, `${o.grid.name}: o.o.d. accuracy, %E and %F (mean ± std over seeds)`)));
    plots.push('ood_by_group.png');
  }
  if (o.gradcam ?? true) {
    for (const g of groups) {
      const cell = o.cells.find((c) => c.id === g.medianCell);
      if (!cell) continue;
      const out = join(o.dir, 'gradcam', slug(g.group));
      const split = oodSplit === 'ood-test' ? 'ood-test' : 'test';
      await writeGradCamImages({
        checkpoint: join(cell.config.out, 'best.safetensors'), data: cell.config.data ?? syntheticDir(cell.config), out, split,
        n: o.sheetFrames ?? 16, adapter: o.adapter, imageSize: cell.config.imageSize,
      });
      g.gradcamSheet = join('gradcam', slug(g.group), 'contact_sheet.png');
    }
  }
  const report: ExperimentReport = {
    grid: o.grid.name, protocol: o.protocol, data, oodSplit, cells: o.cells.length, finished: o.results.length,
    groups, results: o.results, wallSeconds: o.wallSeconds, command: o.command, failures: o.failures ?? [],
  };
  writeFileAtomicSync(join(o.dir, 'report.json'), new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'));
  writeFileAtomicSync(join(o.dir, 'report.md'), new TextEncoder().encode(markdown(report, plots)));
  return report;
}

function markdown(r: ExperimentReport, plots: string[]): string {
  const missing = r.groups.flatMap((g) => g.missing);
  const lines = [
    `# ${r.grid}: ${r.protocol} protocol`,
    '',
    `Command: \`${r.command}\``,
    '',
    `Data: ${r.data}; o.o.d. split: ${r.oodSplit ?? 'none'}. Cells: ${r.finished} of ${r.cells} finished; wall time of the last invocation ${(r.wallSeconds / 60).toFixed(1)} min.`,
    'Mean ± sample std over seeds; the paper\'s numbers in brackets. The paper measured on TMED-2 (i.d.) and WASE Normals (o.o.d.); these numbers come from the data above, so compare patterns, not values.',
    '',
  ];
  if (r.grid === 'table1') lines.push(table1Md(r.groups));
  else if (r.grid === 'table2') lines.push(oodTableMd(r.groups, PAPER_TABLE2));
  else if (r.grid === 'ablation') lines.push(ablationMd(r.groups));
  else lines.push(oodTableMd(r.groups, {}));
  if (missing.length) lines.push('', `Not finished (failed or not run; see each cell's error.json): ${missing.join(', ')}.`);
  for (const f of r.failures) lines.push('', `Failed: ${f.id}: ${f.message.split('\n')[0]}`);
  lines.push('', '## Per cell', '', table(
    ['cell', 'seed', 'best epoch', 'best val', 'i.d. acc', 'o.o.d. acc', 'minutes'],
    r.results.map((c) => [c.reusedFrom ? `${c.id}¹` : c.id, String(c.seed), String(c.bestEpoch), (c.bestValAcc * 100).toFixed(1), fmtAcc(c.splits.find((s) => s.split === 'test')), fmtAcc(oodOf(c)), (c.seconds / 60).toFixed(1)]),
  ));
  const reused = r.results.filter((c) => c.reusedFrom);
  if (reused.length) lines.push('', `¹ Not trained in this experiment: the finished cell with the same config (hash) in ${[...new Set(reused.map((c) => c.reusedFrom!.replace(/\/cells\/[^/]+$/, '')))].join(', ')} (\`--reuse\`): ${reused.map((c) => `${c.id} ← ${c.reusedFrom!.split('/').pop()}`).join(', ')}.`);
  if (plots.length) lines.push('', '## Plots', '', ...plots.map((p) => `![${p}](${p})`));
  const sheets = r.groups.filter((g) => g.gradcamSheet);
  if (sheets.length) {
    lines.push('', `## GradCAM (median seed of each group, ${r.oodSplit === 'ood-test' ? 'o.o.d.' : 'i.d.'} test frames)`, '');
    for (const g of sheets) lines.push(`**${g.group}** (${g.medianCell})`, '', `![${g.group}](${g.gradcamSheet})`, '');
  }
  return lines.join('\n') + '\n';
}

const fmtAcc = (s: SplitSummary | undefined) => (s ? (s.accuracy * 100).toFixed(1) : '–');
