// `wgml experiment` as a library call: resolve the grid, run what is not finished, write the
// report. The CLI adds progress and Ctrl-C; a test or a script calls this directly.
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../nn/atomic_write.js';
import { GRID_NAMES, namedGrid, type Grid, type GridName } from './grid.js';
import { readGridFile } from './grid_file.js';
import { resolveGrid, type Protocol, type ResolvedCell } from './protocol.js';
import { runGrid, type GridProgress, type RunGridSummary } from './runner.js';
import { writeReport, type ExperimentReport } from './report.js';
import { readCellResult, type CellResult } from './cell.js';

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
  /** Only rebuild the report from the cells already finished. */
  reportOnly?: boolean;
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
  const grid = loadGrid(o.grid, Array.from({ length: seedCount }, (_, i) => i));
  const dir = resolve(o.out);
  const cells = resolveGrid(grid, { protocol, dir, data: o.data, ood: o.ood, override: o.epochs ? { epochs: o.epochs } : undefined });
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir);
  try {
    writeFileAtomicSync(join(dir, 'experiment.json'), new TextEncoder().encode(JSON.stringify({ grid, protocol, cells }, null, 2) + '\n'));
    const t0 = performance.now();
    const run = o.reportOnly ? null : await runGrid(cells, { jobs: o.jobs, adapter: o.adapter, signal: o.signal, onProgress: o.onProgress, onLog: o.onLog });
    const results = run?.results ?? cells.map(readCellResult).filter((r): r is CellResult => r !== null);
    if (results.length === 0) return { grid, cells, run, report: null };
    const report = await writeReport({
      dir, grid, cells, results, protocol, adapter: o.adapter, gradcam: o.gradcam,
      command: o.command ?? `wgml experiment ${o.grid} --protocol ${protocol} --out ${o.out}`,
      wallSeconds: (performance.now() - t0) / 1000,
    });
    return { grid, cells, run, report };
  } finally {
    unlock();
  }
}
