// `--reuse DIR`: a cell whose exact config (hash) another experiment directory has already
// finished takes that result and its files instead of training again — Table 2's baseline and
// f = 1 rows are Table 1's none and backmix cells. The copy keeps a note of where it came from.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeJsonAtomicSync } from '../nn/atomic_write.js';
import { cellResultPath, readCellResult, type CellResult } from './cell.js';
import type { ResolvedCell } from './protocol.js';

/** Finished results under `<dir>/cells/*` by config hash. */
function finishedByHash(dir: string): Map<string, { dir: string; result: CellResult }> {
  const cellsDir = join(resolve(dir), 'cells');
  if (!existsSync(cellsDir)) throw new Error(`--reuse: ${dir} is not an experiment directory (no cells/ in it)`);
  const found = new Map<string, { dir: string; result: CellResult }>();
  for (const name of readdirSync(cellsDir)) {
    const path = join(cellsDir, name, 'cell.json');
    if (!existsSync(path)) continue;
    try {
      const result = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
      if (typeof result.hash === 'string' && !found.has(result.hash)) found.set(result.hash, { dir: join(cellsDir, name), result });
    } catch {
      // a torn cell.json is not finished
    }
  }
  return found;
}

/** Copies finished cells with the same config from `from`; returns the ids adopted. */
export function adoptFinishedCells(cells: ResolvedCell[], from: string): string[] {
  const found = finishedByHash(from);
  const adopted: string[] = [];
  for (const cell of cells) {
    if (readCellResult(cell)) continue;
    const src = found.get(cell.hash);
    if (!src || resolve(src.dir) === resolve(cell.config.out)) continue;
    mkdirSync(cell.config.out, { recursive: true });
    for (const f of readdirSync(src.dir)) {
      if (f === 'cell.json' || f === 'cell.started.json' || f === 'error.json' || f === 'stderr.log') continue;
      if (/\.(safetensors|jsonl|json|png|svg)$/.test(f)) copyFileSync(join(src.dir, f), join(cell.config.out, f));
    }
    const result: CellResult = { ...src.result, id: cell.id, group: cell.group, seed: cell.seed, reusedFrom: src.dir };
    writeJsonAtomicSync(cellResultPath(cell), result);
    adopted.push(cell.id);
  }
  return adopted;
}
