// `wgml experiment … --queue URL --status`: where every cell of the grid is — waiting, active
// (on which worker, which epoch), done, failed — and an ETA from the cells finished so far.
import type { ResolvedCell } from '../experiment/protocol.js';
import { readCellResult } from '../experiment/cell.js';
import { cellJobId, type CellJobProgress } from './cell_job.js';
import type { OpenQueue } from './queue_client.js';

export type CellState = 'waiting' | 'active' | 'delayed' | 'done' | 'failed' | 'not queued';

export interface CellStatus {
  id: string;
  state: CellState;
  worker?: string;
  /** Fraction of the cell's epochs done while active (0..1). */
  fraction?: number;
  epoch?: string;
  tries: number;
  error?: string;
}

export interface GridStatus {
  cells: CellStatus[];
  counts: Record<CellState, number>;
  workers: number;
  /** Seconds until every cell is done at the pace of the finished ones; null before any finished. */
  etaSeconds: number | null;
}

export async function gridStatus(q: OpenQueue, cells: ResolvedCell[], experiment: string): Promise<GridStatus> {
  const out: CellStatus[] = [];
  const durations: number[] = [];
  for (const cell of cells) {
    const job = await q.queue.getJob(cellJobId(cell, experiment));
    if (!job) {
      out.push({ id: cell.id, state: readCellResult(cell) ? 'done' : 'not queued', tries: 0 });
      continue;
    }
    const st = await job.getState();
    const tries = job.attemptsMade;
    if (st === 'completed') {
      out.push({ id: cell.id, state: 'done', worker: job.returnvalue?.worker, tries });
      if (job.finishedOn && job.processedOn) durations.push((job.finishedOn - job.processedOn) / 1000);
    } else if (st === 'failed') out.push({ id: cell.id, state: 'failed', tries, error: job.failedReason });
    else if (st === 'active') {
      const p = job.progress as Partial<CellJobProgress> | number;
      const pr = typeof p === 'object' && p ? p : {};
      const fraction = pr.epochs ? (Math.max(0, (pr.epoch ?? 1) - 1) + (pr.batches ? (pr.batch ?? 0) / pr.batches : 0)) / pr.epochs : 0;
      out.push({ id: cell.id, state: 'active', worker: pr.worker ?? job.processedBy, fraction, epoch: pr.epoch ? `${pr.epoch}/${pr.epochs}` : undefined, tries });
    } else out.push({ id: cell.id, state: st === 'delayed' ? 'delayed' : 'waiting', tries });
  }
  const counts = { waiting: 0, active: 0, delayed: 0, done: 0, failed: 0, 'not queued': 0 } as Record<CellState, number>;
  for (const c of out) counts[c.state]++;
  const workers = (await q.queue.getWorkers()).length;
  let etaSeconds: number | null = null;
  if (durations.length) {
    const per = durations.reduce((a, b) => a + b, 0) / durations.length;
    const left = out.reduce((a, c) => a + (c.state === 'waiting' || c.state === 'delayed' ? 1 : c.state === 'active' ? 1 - (c.fraction ?? 0) : 0), 0);
    etaSeconds = (left * per) / Math.max(1, workers, counts.active);
  }
  return { cells: out, counts, workers, etaSeconds };
}
