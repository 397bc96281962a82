// `wgml experiment` as a library call: resolve the grid, run what is not finished, write the
// report. The CLI adds progress and Ctrl-C; a test or a script calls this directly.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeJsonAtomicSync } from '../nn/atomic_write.js';
import { GRID_NAMES, namedGrid, type Grid, type GridName } from './grid.js';
import { readGridFile } from './grid_file.js';
import { resolveGrid, type Protocol, type ResolvedCell } from './protocol.js';
import { prepareSynthetic, runGrid, type CellFailure, type GridProgress, type RunGridSummary } from './runner.js';
import { writeReport, type ExperimentReport } from './report.js';
import { readCellResult, type CellResult } from './cell.js';
import { adoptFinishedCells } from './adopt.js';
import { openQueue } from '../queue/queue_client.js';
import { enqueueCells, type EnqueueSummary } from '../queue/enqueue.js';
import { collectResults, type CollectSummary } from '../queue/collect.js';
import { gridStatus, type GridStatus } from '../queue/status.js';

export interface ExperimentOptions {
  /** table1 | table2 | ablation, or a YAML/JSON grid file. */
  grid: string;
  out: string;
  protocol?: Protocol;
  /** Seeds 0..seeds−1 (default 3); a grid file's own `seeds` wins. */
  seeds?: number;
  jobs?: number;
  data?: string;
  ood?: string;
  /** Overrides every cell's epochs (e.g. a shorter trial of a protocol). */
  epochs?: number;
  adapter?: string;
  gradcam?: boolean;
  /** Another experiment directory whose finished cells with the same config are taken over. */
  reuse?: string;
  /** Only rebuild the report from the cells already finished. */
  reportOnly?: boolean;
  /** A Redis URL: enqueue the unfinished cells for `wgml worker`s instead of training them here. */
  queue?: string;
  /** With `queue`: fetch the finished cells' results and write the report. */
  collect?: boolean;
  /** With `queue`: report where every cell is; change nothing. */
  status?: boolean;
  /** With `queue`: tries per cell before it is marked failed (default 3). */
  attempts?: number;
  /** The command line, for the report. */
  command?: string;
  signal?: AbortSignal;
  onProgress?: (p: GridProgress) => void;
  onLog?: (m: string) => void;
}

export interface ExperimentOutcome {
  grid: Grid;
  cells: ResolvedCell[];
  run: RunGridSummary | null;
  report: ExperimentReport | null;
  /** Cells taken from the --reuse directory. */
  adopted?: string[];
  queued?: EnqueueSummary;
  collected?: CollectSummary;
  status?: GridStatus;
}

export function loadGrid(name: string, seeds: number[]): Grid {
  if ((GRID_NAMES as readonly string[]).includes(name)) return namedGrid(name as GridName, seeds);
  if (/\.(ya?ml|json)$/i.test(name)) {
    if (!existsSync(name)) throw new Error(`grid file not found: ${name}`);
    return readGridFile(name, seeds);
  }
  throw new Error(`unknown grid '${name}': expected ${GRID_NAMES.join(', ')} or a .yaml/.json grid file`);
}

/** One experiment directory, one runner: a second invocation on the same directory is refused. */
function lock(dir: string): () => void {
  const path = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive) throw new Error(`${dir} is in use by another wgml experiment (pid ${pid}); wait for it, or remove ${path} if that process is gone`);
      rmSync(path, { force: true }); // left by a process that died
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentOutcome> {
  const protocol = o.protocol ?? 'quick';
  const seedCount = o.seeds ?? 3;
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new RangeError(`--seeds: expected a positive integer, got ${seedCount}`);
  if ((o.collect || o.status) && !o.queue) throw new Error('--collect and --status need --queue redis://HOST:PORT');
  if (o.collect && o.status) throw new Error('--collect and --status: choose one');
  const grid = loadGrid(o.grid, Array.from({ length: seedCount }, (_, i) => i));
  const dir = resolve(o.out);
  const cells = resolveGrid(grid, { protocol, dir, data: o.data, ood: o.ood, override: o.epochs ? { epochs: o.epochs } : undefined });
  if (o.queue && o.status) {
    const q = await openQueue(o.queue);
    try {
      return { grid, cells, run: null, report: null, status: await gridStatus(q, cells, dir) };
    } finally {
      await q.close();
    }
  }
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir);
  try {
    const t0 = performance.now();
    const adopted = o.reuse && !o.collect ? adoptFinishedCells(cells, o.reuse) : [];
    if (adopted.length) o.onLog?.(`${adopted.length} cell(s) with the same config taken from ${o.reuse}: ${adopted.join(', ')}`);
    let run: RunGridSummary | null = null;
    let results: CellResult[];
    let failures: CellFailure[] = [];
    let collected: CollectSummary | undefined;
    if (o.queue) {
      const q = await openQueue(o.queue);
      try {
        if (!o.collect) {
          writeExperimentFile(dir, grid, protocol, cells);
          // Workers on shared storage read these; --collect's GradCAM sheets read them here.
          await prepareSynthetic(cells, o.onLog ?? (() => {}));
          const queued = await enqueueCells(q.queue, cells.filter((c) => !readCellResult(c)), dir, { attempts: o.attempts });
          return { grid, cells, run: null, report: null, adopted, queued };
        }
        collected = await collectResults(q, cells, dir);
      } finally {
        await q.close();
      }
      results = collected.results;
      failures = collected.failed;
    } else {
      writeExperimentFile(dir, grid, protocol, cells);
      run = o.reportOnly ? null : await runGrid(cells, { jobs: o.jobs, adapter: o.adapter, signal: o.signal, onProgress: o.onProgress, onLog: o.onLog });
      results = run?.results ?? cells.map(readCellResult).filter((r): r is CellResult => r !== null);
      failures = run?.failed ?? [];
    }
    if (results.length === 0) return { grid, cells, run, report: null, adopted, collected };
    const report = await writeReport({
      dir, grid, cells, results, protocol, adapter: o.adapter, gradcam: o.gradcam, failures,
      command: o.command ?? `wgml experiment ${o.grid} --protocol ${protocol} --out ${o.out}`,
      wallSeconds: (performance.now() - t0) / 1000,
    });
    return { grid, cells, run, report, adopted, collected };
  } finally {
    unlock();
  }
}

function writeExperimentFile(dir: string, grid: Grid, protocol: Protocol, cells: ResolvedCell[]): void {
  writeJsonAtomicSync(join(dir, 'experiment.json'), { grid, protocol, cells });
}
