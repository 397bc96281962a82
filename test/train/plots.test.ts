// Training plots: curves from metrics.jsonl and confusion-matrix heatmaps, rendered by vega to SVG
// and by sharp to PNG. Checks the files exist, parse, carry the series/class names and counts,
// have the expected size, are not blank, and that bad metrics lines are reported by line number.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PNG_SCALE, parseMetricsJsonl, writeConfusionMatrix, writeTrainingCurves } from '../../src/train/plots.js';

function metricsLine(epoch: number, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    epoch,
    train_loss: 1.4 / epoch + 0.1,
    train_acc: 1 - 0.5 / epoch,
    val_loss: 1.6 / epoch + 0.2,
    val_acc: 0.9 - 0.5 / epoch,
    images_per_sec: 120.5,
    seconds: 3.2,
    gpu_bytes_in_use: 1000,
    gpu_peak_bytes_in_use: 1500,
    gpu_bytes_allocated: 2000,
    gpu_peak_bytes_allocated: 2100,
    first_step_seconds: epoch === 1 ? 4.2 : null,
    best: epoch <= 3,
    ...over,
  });
}

/** The width/height attributes of the root <svg>. */
function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  expect(m).not.toBeNull();
  return { width: Number(m![1]), height: Number(m![2]) };
}

/** Text contents of all <text> elements. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

async function expectPngMatchesSvg(pngPath: string, svg: string): Promise<void> {
  const { width, height } = svgSize(svg);
  const img = sharp(await readFile(pngPath));
  const meta = await img.metadata();
  expect(meta.format).toBe('png');
  expect(meta.width).toBe(Math.round(width * PNG_SCALE));
  expect(meta.height).toBe(Math.round(height * PNG_SCALE));
  // Not blank: the luminance varies across the image (a white or single-colour PNG has stdev 0).
  const stats = await img.stats();
  const maxStdev = Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev));
  expect(maxStdev).toBeGreaterThan(1);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wgml-plots-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeTrainingCurves', () => {
  it('writes curves.svg and curves.png with train/val series and the best epoch', async () => {
    const run = join(root, 'run_a');
    await mkdir(run);
    // Epoch 4's validation is missing (null) and the file ends with a blank line, as the trainer leaves it.
    const lines = [1, 2, 3, 4, 5].map((e) => metricsLine(e, e === 4 ? { val_loss: null, val_acc: null } : {}));
    await writeFile(join(run, 'metrics.jsonl'), lines.join('\n') + '\n');

    const paths = await writeTrainingCurves(run);
    expect(paths).toEqual([join(run, 'curves.svg'), join(run, 'curves.png')]);
    // Atomic writes leave no temporary files behind.
    expect((await readdir(run)).sort()).toEqual(['curves.png', 'curves.svg', 'metrics.jsonl']);

    const svg = await readFile(paths[0]!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const texts = svgTexts(svg);
    for (const t of ['train', 'val', 'loss', 'accuracy', 'epoch', 'best (epoch 3)']) expect(texts).toContain(t);
    expect(texts.some((t) => t.includes('best epoch 3'))).toBe(true);
    await expectPngMatchesSvg(paths[1]!, svg);
  });

  it('plots a run without validation (val_* null) and keeps the later line for a repeated epoch', async () => {
    const run = join(root, 'run_b');
    await mkdir(run);
    const lines = [
      metricsLine(1, { val_loss: null, val_acc: null, best: true }),
      metricsLine(2, { val_loss: null, val_acc: null, best: false }),
      metricsLine(2, { val_loss: null, val_acc: null, best: true }),
    ];
    await writeFile(join(run, 'metrics.jsonl'), lines.join('\n'));
    const [svgPath, pngPath] = await writeTrainingCurves(run);
    const svg = await readFile(svgPath!, 'utf8');
    const texts = svgTexts(svg);
    expect(texts).toContain('best (epoch 2)');
    expect(texts).toContain('train');
    expect(texts).not.toContain('val');
    expect(texts.some((t) => t.includes('best epoch 2: train acc'))).toBe(true);
    await expectPngMatchesSvg(pngPath!, svg);
  });

  it('names the file and line of a bad metrics line', async () => {
    const run = join(root, 'run_bad');
    await mkdir(run);
    const file = join(run, 'metrics.jsonl');
    await writeFile(file, [metricsLine(1), metricsLine(2), '{"epoch": 3, "train_loss": 0.5,', metricsLine(4)].join('\n'));
    await expect(writeTrainingCurves(run)).rejects.toThrow(`${file}:3:`);
    // Nothing is written for a bad file.
    expect(await readdir(run)).toEqual(['metrics.jsonl']);
  });

  it('rejects lines with wrong field types, and empty files', () => {
    expect(() => parseMetricsJsonl(`${metricsLine(1)}\n\n${metricsLine(2, { train_acc: 'high' })}\n`, 'm.jsonl')).toThrow(/^m\.jsonl:3: "train_acc"/);
    expect(() => parseMetricsJsonl(metricsLine(1, { epoch: 1.5 }), 'm.jsonl')).toThrow(/^m\.jsonl:1: "epoch"/);
    expect(() => parseMetricsJsonl('[1,2]', 'm.jsonl')).toThrow(/^m\.jsonl:1: expected a JSON object/);
    expect(() => parseMetricsJsonl('\n\n', 'm.jsonl')).toThrow(/no epochs/);
  });

  it('reports a missing metrics.jsonl', async () => {
    await expect(writeTrainingCurves(join(root, 'no_such_run'))).rejects.toThrow(/metrics\.jsonl/);
  });
});

describe('writeConfusionMatrix', () => {
  // Distinct counts so each cell's text is unambiguous; rows = true, columns = predicted.
  const classes = ['A2C', 'A4C', 'PLAX'];
  const confusion = [
    [41, 2, 3],
    [4, 35, 6],
    [7, 8, 29],
  ];

  it('writes an SVG heatmap with class names and counts, and a PNG of the same picture', async () => {
    const base = join(root, 'plots', 'confusion_test');
    const paths = await writeConfusionMatrix(base, confusion, classes, 'Test set');
    expect(paths).toEqual([`${base}.svg`, `${base}.png`]);
    const svg = await readFile(paths[0]!, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    const texts = svgTexts(svg);
    for (const c of classes) expect(texts.filter((t) => t === c).length).toBe(2); // both axes
    expect(texts).toContain('Test set');

    // Each count sits in its cell: vega labels every text mark with its fields, and the cell's
    // position grows with the column (x) and the row (y).
    const pos = new Map<string, { x: number; y: number }>();
    for (let t = 0; t < 3; t++) {
      for (let p = 0; p < 3; p++) {
        const n = confusion[t]![p]!;
        const re = new RegExp(`<text aria-label="predicted: ${classes[p]}; true class: ${classes[t]}; count: ${n}"[^>]*translate\\(([\\d.]+),([\\d.]+)\\)[^>]*>${n}</text>`);
        const m = re.exec(svg);
        expect(m, `cell true=${classes[t]} pred=${classes[p]}`).not.toBeNull();
        pos.set(`${t},${p}`, { x: Number(m![1]), y: Number(m![2]) });
      }
    }
    expect(pos.get('0,0')!.x).toBeLessThan(pos.get('0,2')!.x);
    expect(pos.get('0,0')!.y).toBeLessThan(pos.get('2,0')!.y);
    expect(pos.get('1,0')!.x).toBe(pos.get('2,0')!.x);
    expect(pos.get('0,1')!.y).toBe(pos.get('0,2')!.y);

    await expectPngMatchesSvg(paths[1]!, svg);
  });

  it('rejects a matrix whose shape does not match the classes', async () => {
    await expect(writeConfusionMatrix(join(root, 'bad'), [[1, 2], [3, 4]], classes, 'x')).rejects.toThrow(/2 rows for 3 classes/);
    await expect(writeConfusionMatrix(join(root, 'bad'), [[1, 2, 3], [3, 4], [5, 6, 7]], classes, 'x')).rejects.toThrow(/row 1/);
    await expect(writeConfusionMatrix(join(root, 'bad'), [[1, 2, 3], [3, -4, 5], [5, 6, 7]], classes, 'x')).rejects.toThrow(/\[1\]\[1\]/);
  });
});
