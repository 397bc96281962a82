// One cell of a grid: train, evaluate, and write <out>/cell.json atomically. A cell.json whose
// hash matches the cell's config means "done, never recompute"; anything less is redone — from
// the run's last epoch checkpoint when one is there for the same config. The local runner (child
// processes) and a queue worker share this function.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { train, type TrainHooks, type SplitResult } from '../train/trainer.js';
import { writeJsonAtomicSync } from '../nn/atomic_write.js';
import type { ResolvedCell } from './protocol.js';

export interface SplitSummary {
  split: string;
  n: number;
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  percentE: number | null;
  percentF: number | null;
}

export interface CellResult {
  id: string;
  group: string;
  seed: number;
  hash: string;
  /** Wall-clock seconds of this cell's last (possibly resumed) run. */
  seconds: number;
  epochs: number;
  bestEpoch: number;
  bestValAcc: number;
  splits: SplitSummary[];
  finishedAt: string;
  /** Set when the result was taken from another experiment's cell with the same config (`--reuse`). */
  reusedFrom?: string;
}

export class CellInterrupted extends Error {
  override name = 'CellInterrupted';
}

const RESULT = 'cell.json';
/** Written when a cell starts: a later run resumes its checkpoints only for the same config. */
const STARTED = 'cell.started.json';

export function cellResultPath(cell: ResolvedCell): string {
  return join(cell.config.out, RESULT);
}

/** The finished result of `cell`, or null when it has none for this very config. */
export function readCellResult(cell: ResolvedCell): CellResult | null {
  const path = cellResultPath(cell);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
    return r.hash === cell.hash ? r : null;
  } catch {
    return null; // torn or foreign: redo the cell
  }
}

function summarise(s: SplitResult): SplitSummary {
  const m = s.evaluation.report.macro;
  return {
    split: s.split, n: s.n, accuracy: s.accuracy, macroPrecision: m.precision, macroRecall: m.recall, macroF1: m.f1,
    percentE: s.percentE, percentF: s.percentF,
  };
}

/** <out>/error.json of a cell that failed: the runner, a worker and --collect write the same record. */
export function writeCellError(cell: ResolvedCell, message: string, extra: Record<string, unknown> = {}): void {
  mkdirSync(cell.config.out, { recursive: true });
  writeJsonAtomicSync(join(cell.config.out, 'error.json'), { id: cell.id, hash: cell.hash, message, at: new Date().toISOString(), ...extra });
}

export async function runCell(cell: ResolvedCell, hooks: TrainHooks = {}, o: { adapter?: string } = {}): Promise<CellResult> {
  const out = cell.config.out;
  const startedPath = join(out, STARTED);
  let resume = false;
  if (existsSync(startedPath)) {
    const started = JSON.parse(readFileSync(startedPath, 'utf8')) as { hash?: string };
    if (started.hash === cell.hash && existsSync(join(out, 'last.safetensors')) && existsSync(join(out, 'last.state.safetensors'))) resume = true;
    // Another config's leftovers must not be resumed from.
    else if (started.hash !== cell.hash) rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeJsonAtomicSync(startedPath, { hash: cell.hash, config: cell.config });
  const t0 = performance.now();
  const r = await train(cell.config, hooks, { adapter: o.adapter, resume });
  if (r.stopped) throw new CellInterrupted(`${cell.id}: interrupted; its last complete epoch's checkpoint stays for the next run`);
  const result: CellResult = {
    id: cell.id,
    group: cell.group,
    seed: cell.seed,
    hash: cell.hash,
    seconds: (performance.now() - t0) / 1000,
    epochs: cell.config.epochs,
    bestEpoch: r.bestEpoch,
    bestValAcc: r.bestValAcc,
    splits: r.final.map(summarise),
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomicSync(cellResultPath(cell), result);
  return result;
}
