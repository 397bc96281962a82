// Runs the cells of a grid that have no result yet, N at a time, each in its own process
// (child.ts). Finished cells are never recomputed; a failed cell is recorded (error.json and
// its stderr in the cell's directory) and the others go on; a stop request (Ctrl-C) lets every
// running cell finish its current step, keeps its last epoch checkpoint, and launches nothing new.
import { synthesize, isCurrentSynthOutput } from '../data/index.js';
import { syntheticDir } from '../train/trainer.js';
import { readCellResult, type CellResult } from './cell.js';
import { runCellProcess } from './cell_process.js';
import type { ResolvedCell } from './protocol.js';

export interface RunningCell {
  id: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
}

export interface GridProgress {
  total: number;
  done: number;
  failed: number;
  running: RunningCell[];
  /** Share of all epochs of the grid done, counting partial epochs of running cells (0..1). */
  fraction: number;
}

export interface RunGridOptions {
  jobs?: number;
  adapter?: string;
  /** Aborting lets running cells stop after their current step; nothing new is launched. */
  signal?: AbortSignal;
  onProgress?: (p: GridProgress) => void;
  onLog?: (message: string) => void;
}

export interface CellFailure {
  id: string;
  message: string;
}

export interface RunGridSummary {
  results: CellResult[];
  /** Cells whose result was already there (same config). */
  reused: string[];
  finished: string[];
  failed: CellFailure[];
  /** Cells stopped by the signal; they resume from their last epoch next time. */
  interrupted: string[];
  seconds: number;
}

/** Draws the built-in synthetic datasets the cells need, one at a time, before any cell starts. */
export async function prepareSynthetic(cells: ResolvedCell[], log: (m: string) => void): Promise<void> {
  const seen = new Set<string>();
  for (const c of cells) {
    if (c.config.data) continue;
    const dir = syntheticDir(c.config);
    if (seen.has(dir)) continue;
    seen.add(dir);
    const opts = { n: c.config.synthN, seed: c.config.seed, size: c.config.imageSize };
    if (!(await isCurrentSynthOutput(dir, opts))) {
      log(`generating the synthetic echo benchmark (${opts.n} frames, seed ${opts.seed}) in ${dir}`);
      await synthesize({ out: dir, ...opts });
    }
  }
}

export async function runGrid(cells: ResolvedCell[], o: RunGridOptions = {}): Promise<RunGridSummary> {
  const t0 = performance.now();
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
  const log = o.onLog ?? (() => {});
  const results = new Map<string, CellResult>();
  const reused: string[] = [];
  const pending: ResolvedCell[] = [];
  for (const c of cells) {
    const r = readCellResult(c);
    if (r) {
      results.set(c.id, r);
      reused.push(c.id);
    } else pending.push(c);
  }
  const finished: string[] = [];
  const failed: CellFailure[] = [];
  const interrupted: string[] = [];
  const running = new Map<string, RunningCell>();
  const totalEpochs = cells.reduce((a, c) => a + c.config.epochs, 0);
  const report = () => {
    let doneEpochs = cells.filter((c) => results.has(c.id)).reduce((a, c) => a + c.config.epochs, 0);
    for (const at of running.values()) doneEpochs += Math.max(0, at.epoch - 1) + (at.batches ? at.batch / at.batches : 0);
    o.onProgress?.({
      total: cells.length, done: results.size, failed: failed.length, running: [...running.values()],
      fraction: totalEpochs ? doneEpochs / totalEpochs : 1,
    });
  };
  report();
  if (pending.length === 0) return { results: cells.map((c) => results.get(c.id)!), reused, finished, failed, interrupted, seconds: 0 };
  await prepareSynthetic(pending, log);

  const stopping = () => o.signal?.aborted ?? false;

  const runOne = async (cell: ResolvedCell) => {
    const at: RunningCell = { id: cell.id, epoch: 0, epochs: cell.config.epochs, batch: 0, batches: 0 };
    running.set(cell.id, at);
    const r = await runCellProcess(cell, {
      adapter: o.adapter,
      signal: o.signal,
      onPosition: (p) => {
        Object.assign(at, p);
        report();
      },
      onLog: (m) => log(`${cell.id}: ${m}`),
    });
    running.delete(cell.id);
    if (r.type === 'done') {
      results.set(cell.id, r.result);
      finished.push(cell.id);
    } else if (r.type === 'interrupted') interrupted.push(cell.id);
    else {
      failed.push({ id: cell.id, message: r.message });
      log(`cell ${cell.id} failed: ${r.message.split('\n')[0]}`);
    }
    report();
  };

  const queue = [...pending];
  const worker = async () => {
    while (queue.length && !stopping()) await runOne(queue.shift()!);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, pending.length) }, worker));
  return {
    results: cells.filter((c) => results.has(c.id)).map((c) => results.get(c.id)!),
    reused, finished, failed, interrupted, seconds: (performance.now() - t0) / 1000,
  };
}
