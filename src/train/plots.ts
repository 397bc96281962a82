// Training plots for a run directory: loss/accuracy curves from metrics.jsonl and confusion-matrix
// heatmaps. Charts are vega-lite specs compiled to vega and rendered headless to SVG by
// `View.toSVG()` (renderer 'none': no canvas, no DOM), then rasterised to PNG by sharp (librsvg),
// so a run leaves both a vector figure for papers and a bitmap that any viewer opens.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { parse as parseVega, View } from 'vega';
import { compile as compileVegaLite, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../nn/atomic_write.js';

/** PNG pixels per SVG user unit: 2 keeps text legible on high-DPI screens and in slides. */
export const PNG_SCALE = 2;

/** One line of metrics.jsonl, as the trainer writes it (a NaN loss is written as null). */
export interface MetricsRecord {
  epoch: number;
  train_loss: number | null;
  train_acc: number | null;
  val_loss: number | null;
  val_acc: number | null;
  best: boolean;
}

const SERIES = ['train', 'val'] as const;
const SERIES_COLORS = ['#1f77b4', '#ff7f0e'];
const BEST_COLOR = '#2ca02c';
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

// vega-lite's spec types, reached through TopLevelSpec (its named spec types sit in an unstable path).
type ConcatItem = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];
type PanelSpec = Extract<ConcatItem, { layer: unknown }>;
type LayerItem = PanelSpec['layer'][number];

function isNumOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * Parses metrics.jsonl text; `file` names the source in errors (`<file>:<line>: ...`). Blank lines
 * are skipped. If an epoch appears twice (a resumed run that repeated it) the later line wins.
 * Returns records sorted by epoch. Only the fields the plots use are checked.
 */
export function parseMetricsJsonl(text: string, file: string): MetricsRecord[] {
  const byEpoch = new Map<number, MetricsRecord>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${where}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    if (typeof o.epoch !== 'number' || !Number.isInteger(o.epoch) || o.epoch < 0) {
      throw new Error(`${where}: "epoch" must be a non-negative integer, got ${JSON.stringify(o.epoch)}`);
    }
    for (const k of ['train_loss', 'train_acc', 'val_loss', 'val_acc'] as const) {
      // Missing validation fields mean "no validation split"; a present value must be a number or null.
      const v = o[k] === undefined && k.startsWith('val_') ? null : o[k];
      if (!isNumOrNull(v)) throw new Error(`${where}: "${k}" must be a finite number or null, got ${JSON.stringify(o[k])}`);
    }
    if (o.best !== undefined && typeof o.best !== 'boolean') throw new Error(`${where}: "best" must be a boolean, got ${JSON.stringify(o.best)}`);
    byEpoch.set(o.epoch, {
      epoch: o.epoch,
      train_loss: o.train_loss as number | null,
      train_acc: o.train_acc as number | null,
      val_loss: (o.val_loss ?? null) as number | null,
      val_acc: (o.val_acc ?? null) as number | null,
      best: o.best === true,
    });
  }
  if (byEpoch.size === 0) throw new Error(`${file}: no epochs recorded`);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Reads and parses `<runDir>/metrics.jsonl`; see {@link parseMetricsJsonl}. */
export async function readMetrics(runDir: string): Promise<MetricsRecord[]> {
  const file = join(runDir, 'metrics.jsonl');
  return parseMetricsJsonl(await readFile(file, 'utf8'), file);
}

/** vega-lite → vega → SVG string. The view is finalized so no timers or listeners linger. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compileVegaLite(spec).spec;
  const view = new View(parseVega(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `<base>.svg` and `<base>.png` (PNG at {@link PNG_SCALE}× the SVG size) atomically. */
export async function writeSvgAndPng(base: string, svg: string): Promise<string[]> {
  const svgPath = `${base}.svg`;
  const pngPath = `${base}.png`;
  const svgBytes = Buffer.from(svg, 'utf8');
  // density is in dpi, and SVG user units are 1/72 in to librsvg, so 72·scale dpi gives scale× pixels.
  const png = await sharp(svgBytes, { density: 72 * PNG_SCALE }).png().toBuffer();
  await writeFileAtomic(svgPath, svgBytes);
  await writeFileAtomic(pngPath, png);
  return [svgPath, pngPath];
}

const baseConfig = {
  font: FONT,
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** The last epoch flagged best (the trainer breaks ties toward the later epoch). */
function bestRecord(records: MetricsRecord[]): MetricsRecord | undefined {
  let best: MetricsRecord | undefined;
  for (const r of records) if (r.best) best = r;
  return best;
}

/** Builds the two-panel (loss | accuracy) vega-lite spec for the given records. */
export function curvesSpec(records: MetricsRecord[], title: string): TopLevelSpec {
  // Long format: one row per (epoch, metric, split) with a value; nulls (no val split, NaN loss) are dropped.
  const rows: { epoch: number; metric: string; split: string; value: number }[] = [];
  for (const r of records) {
    const add = (metric: string, split: string, value: number | null): void => {
      if (value !== null) rows.push({ epoch: r.epoch, metric, split, value });
    };
    add('loss', 'train', r.train_loss);
    add('loss', 'val', r.val_loss);
    add('accuracy', 'train', r.train_acc);
    add('accuracy', 'val', r.val_acc);
  }
  // Only series with data get a legend entry; each keeps its colour whichever are present.
  const present = SERIES.map((name, i) => ({ name, color: SERIES_COLORS[i]! })).filter((s) => rows.some((d) => d.split === s.name));
  const best = bestRecord(records);
  const hasVal = records.some((r) => r.val_acc !== null);
  const bestAcc = best ? (hasVal ? best.val_acc : best.train_acc) : null;
  const subtitle = best
    ? `best epoch ${best.epoch}${bestAcc !== null ? `: ${hasVal ? 'val' : 'train'} acc ${(bestAcc * 100).toFixed(1)}%` : ''}`
    : 'no best epoch recorded';
  const epochAxis = { title: 'epoch', tickMinStep: 1, format: 'd' };

  const panel = (metric: 'loss' | 'accuracy'): PanelSpec => {
    const isAcc = metric === 'accuracy';
    const layers: LayerItem[] = [
      {
        data: { values: rows.filter((d) => d.metric === metric) },
        mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: epochAxis, scale: { nice: false } },
          y: {
            field: 'value',
            type: 'quantitative',
            title: metric,
            scale: isAcc ? { domain: [0, 1] } : { zero: false },
            axis: isAcc ? { format: '.0%' } : {},
          },
          color: { field: 'split', type: 'nominal', title: 'series', scale: { domain: present.map((p) => p.name), range: present.map((p) => p.color) } },
          tooltip: [{ field: 'epoch' }, { field: 'split' }, { field: 'value', format: '.4f' }],
        },
      },
    ];
    if (best) {
      layers.push({
        data: { values: [{ epoch: best.epoch, label: `best (epoch ${best.epoch})` }] },
        layer: [
          { mark: { type: 'rule', color: BEST_COLOR, strokeDash: [5, 4], strokeWidth: 1.5 }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
          {
            mark: { type: 'text', color: BEST_COLOR, align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 11 },
            encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
          },
        ],
      });
      // Ring the best epoch's values so the selected model's numbers stand out on each curve.
      const bestRows = rows.filter((d) => d.metric === metric && d.epoch === best.epoch);
      if (bestRows.length) {
        layers.push({
          data: { values: bestRows },
          mark: { type: 'point', shape: 'circle', size: 160, filled: false, strokeWidth: 2, color: BEST_COLOR },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
        });
      }
    }
    // A diverged run writes NaN losses as null; say so rather than leave an unexplained empty panel.
    const empty = !rows.some((d) => d.metric === metric);
    return { title: empty ? `${metric} (no finite values)` : metric, width: 320, height: 220, layer: layers };
  };

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    background: 'white',
    padding: 12,
    config: baseConfig,
    resolve: { scale: { color: 'shared' } },
    hconcat: [panel('loss'), panel('accuracy')],
  };
}

/**
 * Reads `<runDir>/metrics.jsonl` and writes `<runDir>/curves.svg` and `<runDir>/curves.png`: loss
 * and accuracy vs epoch, train and val series, the best epoch marked. Throws naming the file and
 * line for a malformed line. Returns the paths written.
 */
export async function writeTrainingCurves(runDir: string): Promise<string[]> {
  const records = await readMetrics(runDir);
  const svg = await renderSvg(curvesSpec(records, `Training curves: ${basename(runDir) || runDir}`));
  return writeSvgAndPng(join(runDir, 'curves'), svg);
}

/** Builds the confusion-matrix heatmap spec. confusion: [K][K] counts, confusion[true][pred]. */
export function confusionSpec(confusion: number[][], classes: string[], title: string): TopLevelSpec {
  const k = classes.length;
  if (k === 0) throw new RangeError('confusion matrix: no classes');
  if (new Set(classes).size !== k) throw new RangeError(`confusion matrix: duplicate class names in [${classes.join(', ')}]`);
  if (confusion.length !== k) throw new RangeError(`confusion matrix: ${confusion.length} rows for ${k} classes`);
  const cells: { true: string; pred: string; count: number; rowShare: number }[] = [];
  let max = 0;
  for (let t = 0; t < k; t++) {
    const row = confusion[t]!;
    if (row.length !== k) throw new RangeError(`confusion matrix: row ${t} (${classes[t]}) has ${row.length} entries for ${k} classes`);
    const total = row.reduce((a, b) => a + b, 0);
    for (let p = 0; p < k; p++) {
      const c = row[p]!;
      if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`confusion matrix: entry [${t}][${p}] is ${c}, expected a count >= 0`);
      max = Math.max(max, c);
      cells.push({ true: classes[t]!, pred: classes[p]!, count: c, rowShare: total > 0 ? c / total : 0 });
    }
  }
  const n = cells.reduce((a, c) => a + c.count, 0);
  const correct = confusion.reduce((a, row, i) => a + row[i]!, 0);
  const subtitle = `${n} samples, accuracy ${n > 0 ? ((correct / n) * 100).toFixed(1) : '—'}%  (rows: true class, columns: predicted)`;
  const step = Math.max(28, Math.min(56, Math.round(480 / k)));
  const order = [...classes];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    background: 'white',
    padding: 12,
    config: { ...baseConfig, axis: { ...baseConfig.axis, grid: false, domain: false, ticks: false } },
    data: { values: cells },
    width: { step },
    height: { step },
    encoding: {
      x: { field: 'pred', type: 'nominal', sort: order, title: 'predicted', axis: { orient: 'top', labelAngle: -40, labelAlign: 'left' } },
      y: { field: 'true', type: 'nominal', sort: order, title: 'true class' },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          // Colour by the count itself so the figure matches the numbers printed in it.
          color: { field: 'count', type: 'quantitative', title: 'count', scale: { scheme: 'blues', domain: [0, Math.max(1, max)] } },
          tooltip: [{ field: 'true' }, { field: 'pred' }, { field: 'count' }, { field: 'rowShare', format: '.1%', title: 'share of row' }],
        },
      },
      {
        mark: { type: 'text', fontSize: step >= 40 ? 12 : 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: 'd' },
          // White text on the dark half of the blues scale keeps the counts readable.
          color: { condition: { test: `datum.count > ${Math.max(1, max) / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/**
 * Writes `<path>.svg` and `<path>.png`: a heatmap of `confusion` ([K][K], confusion[true][pred])
 * with the count in each cell, rows = true class, columns = predicted, in `classes` order.
 * Creates the parent directory if needed. Returns the paths written.
 */
export async function writeConfusionMatrix(path: string, confusion: number[][], classes: string[], title: string): Promise<string[]> {
  const spec = confusionSpec(confusion, classes, title);
  await mkdir(dirname(path), { recursive: true });
  return writeSvgAndPng(path, await renderSvg(spec));
}
