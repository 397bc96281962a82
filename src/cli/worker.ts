// `wgml worker`: trains the cells other machines enqueued with `wgml experiment --queue`. Logic in
// src/queue/worker.ts.
import type { Command } from 'commander';
import { runWorker } from '../queue/worker.js';
import { globalOptions, optionalPositiveInt } from './options.js';

interface WorkerCli {
  queue: string;
  concurrency: string;
  workDir?: string;
  stalledAfter: string;
  exitWhenDone?: boolean;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take grid cells from a Redis queue (filled by `wgml experiment --queue`), train and evaluate them, and store their results')
    .requiredOption('--queue <redis-url>', 'redis://HOST:PORT[/db], the same URL the experiment was enqueued with')
    .option('--concurrency <n>', 'cells trained at once, each in its own process', '1')
    .option('--work-dir <dir>', "train here and keep results in Redis even if the experiment directory is visible (default: train in the experiment directory when this machine sees it, else under ~/.cache/wgml/worker)")
    .option('--stalled-after <s>', 'seconds without a heartbeat after which a cell of a dead worker is handed to another', '30')
    .option('--exit-when-done', 'exit once no cell is waiting, delayed or active (for batch schedulers)')
    .action(async (o: WorkerCli, cmd: Command) => {
      const stalledAfter = Number(o.stalledAfter);
      if (!Number.isFinite(stalledAfter) || stalledAfter < 1) throw new RangeError(`--stalled-after: expected seconds ≥ 1, got '${o.stalledAfter}'`);
      const w = await runWorker({
        url: o.queue, concurrency: optionalPositiveInt('concurrency', o.concurrency), adapter: globalOptions(cmd).adapter,
        workDir: o.workDir, stalledAfter, exitWhenDone: o.exitWhenDone,
        onLog: (m) => console.log(`${new Date().toISOString()} ${m}`),
      });
      let interrupts = 0;
      const onSignal = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130); // its cells return to the queue after stall detection
        console.log('interrupt: running cells stop after their current step and go back to the queue with their checkpoints (Ctrl-C again to quit at once)');
        w.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const c = await w.closed;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      console.log(`worker ${w.name} closed: ${c.finished} cell(s) finished, ${c.failed} failed, ${c.returned} returned to the queue`);
      if (interrupts) process.exitCode = 130;
    });
}
