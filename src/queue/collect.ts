// `wgml experiment … --queue URL --collect`: the finished cells' results (and, from workers
// without shared storage, their files) written into the local experiment directory, so the
// report is built exactly as after a local run; failed jobs come back with their errors.
import { writeJsonAtomicSync } from '../nn/atomic_write.js';
import { cellResultPath, readCellResult, writeCellError, type CellResult } from '../experiment/cell.js';
import type { CellFailure } from '../experiment/runner.js';
import type { ResolvedCell } from '../experiment/protocol.js';
import { cellJobId, downloadCellFiles } from './cell_job.js';
import type { OpenQueue } from './queue_client.js';

export interface CollectSummary {
  results: CellResult[];
  /** Cells whose result was already in the experiment directory (shared storage, or collected before). */
  local: string[];
  /** Fetched from the queue now. */
  fetched: string[];
  failed: CellFailure[];
  /** Waiting, active, delayed, or never enqueued. */
  unfinished: string[];
}

export async function collectResults(q: OpenQueue, cells: ResolvedCell[], experiment: string): Promise<CollectSummary> {
  const s: CollectSummary = { results: [], local: [], fetched: [], failed: [], unfinished: [] };
  for (const cell of cells) {
    const here = readCellResult(cell);
    if (here) {
      s.results.push(here);
      s.local.push(cell.id);
      continue;
    }
    const jobId = cellJobId(cell, experiment);
    const job = await q.queue.getJob(jobId);
    const state = job ? await job.getState() : 'absent';
    if (job && state === 'completed' && job.returnvalue?.result?.hash === cell.hash) {
      if (job.returnvalue.artifacts === 'redis') await downloadCellFiles(q.redis, jobId, cell.config.out);
      writeJsonAtomicSync(cellResultPath(cell), job.returnvalue.result);
      s.results.push(job.returnvalue.result);
      s.fetched.push(cell.id);
    } else if (job && state === 'failed') {
      const message = `${job.failedReason} (after ${job.attemptsMade} tries)`;
      writeCellError(cell, message, { stacktrace: job.stacktrace, at: new Date(job.finishedOn ?? Date.now()).toISOString() });
      s.failed.push({ id: cell.id, message });
    } else s.unfinished.push(cell.id);
  }
  return s;
}
