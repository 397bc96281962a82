import { describe, expect, it } from 'vitest';
import { markdown, type BenchResult } from '../../src/bench/report.js';

// Every row of a markdown table must have as many cells as its header, or the table renders
// with a stray column (as it did for a run with --peers none).
function tableShapes(md: string): { header: number; rows: number[] }[] {
  const tables: { header: number; rows: number[] }[] = [];
  let current: { header: number; rows: number[] } | null = null;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) { current = null; continue; }
    const cells = line.slice(1, -1).split('|').length;
    if (!current) { current = { header: cells, rows: [] }; tables.push(current); } else current.rows.push(cells);
  }
  return tables;
}

const step = (ms: number) => ({ ms, gflops: null, firstMs: ms * 2, samples: 3, timer: 'benny', poolPeakBytes: 1 << 20, rssPeakBytes: 1 << 28, imagesPerSec: 16000 / ms });

describe('bench report markdown', () => {
  it('has no empty peer column when the run had no peers', () => {
    const r: BenchResult = { meta: { adapter: 'lavapipe', adapterName: 'llvmpipe', date: '2026-12-03', samples: 3, host: 'test', peers: {}, timing: 't' }, cases: [{ name: 'training step, torchvision stem, width 64', tolerance: 0, wgml: step(2200) }] };
    const md = markdown(r);
    const tables = tableShapes(md);
    expect(tables.length).toBeGreaterThanOrEqual(2);
    for (const t of tables) for (const n of t.rows) expect(n).toBe(t.header);
    expect(md).toContain('| training step, torchvision stem, width 64 | 7.27 |\n');
  });

  it('gives each peer one column, rows as wide as the header', () => {
    const r: BenchResult = {
      meta: { adapter: 'lavapipe', adapterName: 'llvmpipe', date: '2026-12-03', samples: 3, host: 'test', peers: { 'tfjs-webgpu': { note: 'TF.js' } }, timing: 't' },
      cases: [{ name: 'training step, torchvision stem, width 64', tolerance: 0, wgml: step(2200), 'tfjs-webgpu': { ...step(27500), ratio: 12.5 } }],
    };
    const md = markdown(r);
    const tables = tableShapes(md);
    for (const t of tables) for (const n of t.rows) expect(n).toBe(t.header);
    expect(md).toContain('| training step, torchvision stem, width 64 | 7.27 | 0.58 |\n');
  });
});
