// One cell in its own process (child.ts): the local runner (`--jobs N`) and a queue worker both
// train through this, so a crash, a device loss or a leak in one cell touches no other, and the
// caller's event loop stays free (a queue worker must keep renewing its job's lock).
import { fork } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCellError, type CellResult } from './cell.js';
import type { ResolvedCell } from './protocol.js';
import type { FromChild, ToChild } from './child.js';

export interface CellPosition {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
}

export type CellOutcome =
  | { type: 'done'; result: CellResult }
  | { type: 'interrupted'; message: string }
  | { type: 'failed'; message: string };

export interface CellProcessOptions {
  adapter?: string;
  /** Aborting lets the cell finish its current step and keep its last epoch checkpoint. */
  signal?: AbortSignal;
  onPosition?: (p: CellPosition) => void;
  onLog?: (message: string) => void;
}

/** The child entry next to this module: .ts under tsx (tests, development), .js when built. */
function childEntry(): { path: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  return { path: join(here, '..', ts ? 'child.ts' : 'child.js'), execArgv: ts ? ['--import', 'tsx'] : [] };
}

function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('Warning: maxDynamic')).slice(-lines).join('\n');
}

/**
 * Trains `cell` in a fresh process. Its stderr goes to <out>/stderr.log; a failure (an error or a
 * process that dies without a result) is also written to <out>/error.json.
 */
export function runCellProcess(cell: ResolvedCell, o: CellProcessOptions = {}): Promise<CellOutcome> {
  return new Promise((resolve) => {
    mkdirSync(cell.config.out, { recursive: true });
    const errPath = join(cell.config.out, 'stderr.log');
    const entry = childEntry();
    const child = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const errLog = createWriteStream(errPath);
    child.stderr!.pipe(errLog);
    const stop = () => child.connected && child.send({ type: 'stop' } satisfies ToChild, () => {});
    if (o.signal?.aborted) queueMicrotask(stop);
    o.signal?.addEventListener('abort', stop);
    let outcome: CellOutcome | null = null;
    child.on('message', (m: FromChild) => {
      if (m.type === 'epoch') o.onPosition?.({ epoch: m.epoch, epochs: m.epochs, batch: m.batch, batches: m.batches });
      else if (m.type === 'log') o.onLog?.(m.message);
      else outcome = m;
    });
    child.on('exit', (code, signal) => {
      o.signal?.removeEventListener('abort', stop);
      errLog.end(() => {
        let r = outcome as CellOutcome | null;
        if (!r) {
          r = { type: 'failed', message: `the cell's process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) without a result\n${tail(errPath)}` };
        }
        if (r.type === 'failed') writeCellError(cell, r.message);
        resolve(r);
      });
    });
    child.send({ type: 'run', cell, adapter: o.adapter } satisfies ToChild);
  });
}
