// `wgml worker`: takes cells from the queue and trains each in its own process (the same
// runCellProcess as a local `--jobs N` run). Where the experiment directory is visible at the
// path the enqueuer named (shared storage), the cell trains there, so a job taken over after a
// worker died resumes from the cell's last epoch checkpoint; elsewhere it trains under
// --work-dir and its result and files go to Redis for `--collect`.
import { existsSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker, WaitingError, type Job } from 'bullmq';
import { runCellProcess } from '../experiment/cell_process.js';
import { readCellResult } from '../experiment/cell.js';
import { prepareSynthetic } from '../experiment/runner.js';
import type { ResolvedCell } from '../experiment/protocol.js';
import { QUEUE_NAME, uploadCellFiles, type CellJobData, type CellJobProgress, type CellJobResult } from './cell_job.js';
import { openQueue } from './queue_client.js';
import { bullConnection } from './redis_url.js';

export interface WorkerOptions {
  url: string;
  concurrency?: number;
  adapter?: string;
  /** Where cells train when the experiment directory is not visible here (and always when set). */
  workDir?: string;
  /** Seconds without a lock renewal after which another worker takes the job over (BullMQ's stall detection). */
  stalledAfter?: number;
  /** Exit once no cell is waiting, delayed or active (a batch job that drains the queue). */
  exitWhenDone?: boolean;
  onLog?: (m: string) => void;
}

export interface WorkerHandle {
  name: string;
  /** Resolves when the worker has closed; the number of cells it finished. */
  closed: Promise<{ finished: number; failed: number; returned: number }>;
  /** Running cells stop after their current step, go back to the queue, and the worker closes. */
  stop(): void;
}

/** A machine's view of a job's cell: shared storage keeps the paths, otherwise they move under workDir. */
function placeCell(data: CellJobData, jobId: string, workDir: string | undefined): { cell: ResolvedCell; shared: boolean } {
  const shared = !workDir && existsSync(join(data.experiment, 'experiment.json'));
  if (shared) return { cell: data.cell, shared };
  const root = resolve(workDir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wgml', 'worker'));
  const cell = data.cell;
  for (const p of [cell.config.data, cell.config.ood]) {
    if (p && !existsSync(p)) throw new Error(`${cell.id}: dataset ${p} is not on this worker (${hostname()}); put it at the same path on every worker, or on shared storage`);
  }
  return { cell: { ...cell, config: { ...cell.config, out: join(root, jobId.replace(/[^A-Za-z0-9.@-]/g, '_'), 'cells', cell.id) } }, shared };
}

export async function runWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const concurrency = o.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`--concurrency: expected a positive integer, got ${concurrency}`);
  const stalledMs = Math.round((o.stalledAfter ?? 30) * 1000);
  if (!(stalledMs >= 1000)) throw new RangeError(`--stalled-after: expected at least 1 second, got ${o.stalledAfter}`);
  const log = o.onLog ?? (() => {});
  const q = await openQueue(o.url);
  const name = `${hostname()}:${process.pid}`;
  const stopAll = new AbortController();
  const counts = { finished: 0, failed: 0, returned: 0 };
  // Synthetic benchmarks are drawn one at a time, so two cells of one seed never write the same directory.
  let drawing: Promise<void> = Promise.resolve();

  const process_ = async (job: Job<CellJobData, CellJobResult>, token?: string): Promise<CellJobResult> => {
    const jobId = job.id!;
    const { cell, shared } = placeCell(job.data, jobId, o.workDir);
    const done = readCellResult(cell);
    if (done) {
      log(`${jobId}: already finished in ${cell.config.out}`);
      if (!shared) await uploadCellFiles(q.redis, jobId, cell.config.out);
      return { result: done, worker: name, artifacts: shared ? 'shared' : 'redis' };
    }
    const prepared = drawing.then(() => prepareSynthetic([cell], (m) => log(`${jobId}: ${m}`)));
    drawing = prepared.catch(() => {});
    await prepared;
    const resuming = existsSync(join(cell.config.out, 'last.safetensors'));
    log(`start ${jobId} (try ${job.attemptsMade + 1}${job.stalledCounter ? `, taken over after ${job.stalledCounter} stall(s)` : ''}) in ${cell.config.out}${resuming ? ', resuming from its last epoch checkpoint' : ''}`);
    const r = await runCellProcess(cell, {
      adapter: o.adapter,
      signal: stopAll.signal,
      onPosition: (p) => void job.updateProgress({ worker: name, ...p } satisfies CellJobProgress).catch(() => {}),
      onLog: (m) => log(`${jobId}: ${m}`),
    });
    if (r.type === 'interrupted') {
      counts.returned++;
      log(`${jobId}: stopped; back in the queue, its last epoch checkpoint kept`);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (r.type === 'failed') {
      counts.failed++;
      log(`${jobId}: failed: ${r.message.split('\n')[0]}`);
      throw new Error(r.message);
    }
    if (!shared) await uploadCellFiles(q.redis, jobId, cell.config.out);
    counts.finished++;
    log(`done ${jobId}: o.o.d./test accuracy ${r.result.splits.map((s) => `${s.split} ${(s.accuracy * 100).toFixed(1)}%`).join(', ')} (${(r.result.seconds / 60).toFixed(1)} min)`);
    return { result: r.result, worker: name, artifacts: shared ? 'shared' : 'redis' };
  };

  const worker = new Worker<CellJobData, CellJobResult>(QUEUE_NAME, process_, {
    connection: bullConnection(q.target),
    concurrency,
    name,
    lockDuration: stalledMs,
    stalledInterval: stalledMs,
    // A machine lost mid-cell is not the cell's fault: allow several take-overs before failing it.
    maxStalledCount: 3,
  });
  worker.on('error', (e) => log(`queue error: ${e.message}`));
  log(`worker ${name} on ${q.target.display} (concurrency ${concurrency})`);

  let drainTimer: NodeJS.Timeout | undefined;
  const closed = new Promise<{ finished: number; failed: number; returned: number }>((resolveClosed) => {
    worker.on('closed', () => {
      clearInterval(drainTimer);
      void q.close().finally(() => resolveClosed(counts));
    });
  });
  const stop = () => {
    if (stopAll.signal.aborted) return;
    stopAll.abort();
    void worker.close();
  };
  if (o.exitWhenDone) {
    let checking = false;
    drainTimer = setInterval(() => {
      if (checking || stopAll.signal.aborted) return;
      checking = true;
      void q.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
        .then((c) => {
          if (Object.values(c).every((n) => n === 0)) {
            log('queue empty: no cell waiting, delayed or active');
            stop();
          }
        })
        .catch(() => {})
        .finally(() => (checking = false));
    }, 1000);
  }
  return { name, closed, stop };
}
