// What travels through the queue for one grid cell: its full, resolved config (so a worker needs
// nothing else), an id that makes enqueuing idempotent, and — for workers that do not see the
// experiment directory — the cell's files kept in Redis until `--collect` fetches them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { writeFileAtomicSync } from '../nn/atomic_write.js';
import type { CellResult } from '../experiment/cell.js';
import type { ResolvedCell } from '../experiment/protocol.js';

/** One queue for every grid: a Redis database (`/db` in the URL) separates users or projects. */
export const QUEUE_NAME = 'wgml-cells';

export interface CellJobData {
  cell: ResolvedCell;
  /** The experiment directory as the enqueuing machine sees it. */
  experiment: string;
}

export interface CellJobResult {
  result: CellResult;
  worker: string;
  /** 'shared': the files are in the experiment directory; 'redis': under artifactKey(). */
  artifacts: 'shared' | 'redis';
}

/** Shown by `--status` while a worker trains the cell. */
export interface CellJobProgress {
  worker: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
}

/**
 * Same experiment directory and same config → same id, so a second enqueue adds nothing. The
 * directory is in it because two experiments may hold equal cells whose files go to different
 * places. BullMQ forbids ':' in custom ids; cell ids are slugs, which have none.
 */
export function cellJobId(cell: ResolvedCell, experiment: string): string {
  const h = createHash('sha256').update(`${experiment}\0${cell.hash}`).digest('hex').slice(0, 12);
  return `${cell.id}@${h}`;
}

/** The files of a finished cell that `--collect` needs (the report's GradCAM reads the checkpoint). */
export const CELL_FILES = ['best.safetensors', 'metrics.jsonl', 'config.json', 'results.json'] as const;

export function artifactKey(jobId: string, file: string): string {
  return `wgml:artifact:${jobId}:${file}`;
}

export async function uploadCellFiles(redis: Redis, jobId: string, dir: string): Promise<void> {
  const multi = redis.multi();
  for (const f of CELL_FILES) {
    const path = join(dir, f);
    if (existsSync(path)) multi.set(artifactKey(jobId, f), readFileSync(path));
  }
  const r = await multi.exec();
  const bad = r?.find(([e]) => e);
  if (bad) throw bad[0]!;
}

/** Writes the cell's stored files into `dir` (atomically); returns the names that were there. */
export async function downloadCellFiles(redis: Redis, jobId: string, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const got: string[] = [];
  for (const f of CELL_FILES) {
    const bytes = await redis.getBuffer(artifactKey(jobId, f));
    if (!bytes) continue;
    writeFileAtomicSync(join(dir, f), bytes);
    got.push(f);
  }
  return got;
}
