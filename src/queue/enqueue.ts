// `wgml experiment … --queue URL`: every unfinished cell becomes a job. Ids come from the cell
// (cellJobId), so enqueuing the same grid again adds nothing; a job that had failed is retried.
import type { ResolvedCell } from '../experiment/protocol.js';
import { cellJobId } from './cell_job.js';
import type { CellQueue } from './queue_client.js';

export interface EnqueueSummary {
  added: string[];
  /** Already in the queue (waiting, active, delayed or completed): left as they are. */
  present: string[];
  /** Had failed: moved back to waiting, attempts counted afresh. */
  retried: string[];
}

export interface EnqueueOptions {
  /** Tries per cell before it is marked failed (a stalled worker does not count as a try). */
  attempts?: number;
}

export async function enqueueCells(queue: CellQueue, cells: ResolvedCell[], experiment: string, o: EnqueueOptions = {}): Promise<EnqueueSummary> {
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`--attempts: expected a positive integer, got ${attempts}`);
  const s: EnqueueSummary = { added: [], present: [], retried: [] };
  const fresh: ResolvedCell[] = [];
  for (const cell of cells) {
    const job = await queue.getJob(cellJobId(cell, experiment));
    if (!job) fresh.push(cell);
    else if ((await job.getState()) === 'failed') {
      await job.retry('failed', { resetAttemptsMade: true });
      s.retried.push(cell.id);
    } else s.present.push(cell.id);
  }
  // Completed and failed jobs stay: --collect reads their results and errors.
  await queue.addBulk(fresh.map((cell) => ({
    name: cell.id,
    data: { cell, experiment },
    opts: { jobId: cellJobId(cell, experiment), attempts, backoff: { type: 'fixed', delay: 5000 }, removeOnComplete: false, removeOnFail: false },
  })));
  s.added.push(...fresh.map((c) => c.id));
  return s;
}
