// A grid cell in its own process (`--jobs N` runs N of these): it takes one cell from the parent
// over IPC, runs it, reports epochs and the result, and exits. A process per cell keeps a crash,
// a device loss or a leak in one cell from touching the others.
import { runCell, CellInterrupted } from './cell.js';
import type { ResolvedCell } from './protocol.js';

export type ToChild = { type: 'run'; cell: ResolvedCell; adapter?: string } | { type: 'stop' };
export type FromChild =
  | { type: 'epoch'; epoch: number; epochs: number; batch: number; batches: number }
  | { type: 'log'; message: string }
  | { type: 'done'; result: Awaited<ReturnType<typeof runCell>> }
  | { type: 'interrupted'; message: string }
  | { type: 'failed'; message: string };

function send(m: FromChild): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : resolve()));
}

let stop = false;
// Ctrl-C reaches the whole process group: finish the current step, keep the last checkpoint.
process.on('SIGINT', () => (stop = true));
// A parent killed outright (SIGKILL, a lost machine) closes the IPC channel: end at once, so no
// orphan trains on while a queue retries the cell elsewhere. The last epoch checkpoint stays.
process.on('disconnect', () => process.exit(1));

process.on('message', (m: ToChild) => {
  if (m.type === 'stop') {
    stop = true;
    return;
  }
  void (async () => {
    let lastSent = 0;
    try {
      const result = await runCell(
        m.cell,
        {
          shouldStop: () => stop,
          onLog: (message) => void send({ type: 'log', message }),
          onStep: (s) => {
            const now = Date.now();
            if (now - lastSent < 1000 && s.batch !== s.batches) return;
            lastSent = now;
            void send({ type: 'epoch', epoch: s.epoch, epochs: s.epochs, batch: s.batch, batches: s.batches });
          },
        },
        { adapter: m.adapter },
      );
      await send({ type: 'done', result });
    } catch (e) {
      await send(e instanceof CellInterrupted ? { type: 'interrupted', message: e.message } : { type: 'failed', message: (e as Error).stack ?? String(e) });
    }
    process.exit(0);
  })();
});
