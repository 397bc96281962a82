// `wgml experiment`: the paper's tables (or any grid of train options) re-measured — many
// trainings, restartable, N at a time — and one report. Logic in src/experiment.
import type { Command } from 'commander';
import { join } from 'node:path';
import { runExperiment } from '../experiment/experiment.js';
import { PROTOCOLS, type Protocol } from '../experiment/protocol.js';
import { globalOptions, optionalPositiveInt } from './options.js';
import { createProgress } from './progress.js';
import type { GridStatus } from '../queue/status.js';

function printStatus(s: GridStatus): void {
  for (const c of s.cells) {
    const where = c.state === 'active' ? ` on ${c.worker ?? '?'}${c.epoch ? `, epoch ${c.epoch}` : ''}` : c.state === 'done' && c.worker ? ` by ${c.worker}` : '';
    const err = c.error ? `: ${c.error.split('\n')[0]}` : '';
    console.log(`  ${c.id.padEnd(28)} ${c.state}${where}${c.tries > 1 ? ` (${c.tries} tries)` : ''}${err}`);
  }
  const n = s.counts;
  const eta = s.etaSeconds === null ? 'ETA after the first cell finishes' : `ETA ${(s.etaSeconds / 60).toFixed(1)} min`;
  console.log(`${n.waiting + n.delayed} waiting, ${n.active} active, ${n.done} done, ${n.failed} failed${n['not queued'] ? `, ${n['not queued']} not queued` : ''}; ${s.workers} worker connection(s); ${eta}`);
}

interface ExperimentCli {
  out: string;
  protocol: string;
  seeds: string;
  jobs: string;
  data?: string;
  ood?: string;
  epochs?: string;
  gradcam: boolean;
  reportOnly?: boolean;
  reuse?: string;
  queue?: string;
  collect?: boolean;
  status?: boolean;
  attempts: string;
}

export function registerExperiment(program: Command): void {
  program
    .command('experiment')
    .description("re-measure the paper's Table 1, Table 2 or ablation (or a grid file): a grid of trainings and evaluations, restartable, and one report")
    .argument('<grid>', 'table1 | table2 | ablation | FILE.yaml|json (see docs/DESIGN.md, "Experiments")')
    .requiredOption('--out <dir>', 'experiment directory: cells/<id>/ per training, report.md, report.json, plots, gradcam/')
    .option('--protocol <p>', `quick (CPU-sized synthetic default) | full (the paper's: CIFAR stem, width 64, 100 epochs, batch 64)`, 'quick')
    .option('--seeds <n>', 'seeds 0..n-1 per group (the ablation uses the first only)', '3')
    .option('--jobs <n>', 'cells trained at once, each in its own process', '1')
    .option('--data <dir|csv>', 'dataset (default: the built-in synthetic benchmark, one per seed)')
    .option('--ood <dir|csv>', 'an out-of-distribution dataset every cell is evaluated on')
    .option('--epochs <n>', "override the protocol's epochs (a shorter trial)")
    .option('--no-gradcam', 'skip the GradCAM contact sheets')
    .option('--report-only', 'rebuild the report from finished cells; train nothing')
    .option('--reuse <dir>', "take finished cells with the same config from another experiment directory (e.g. Table 2's baseline from Table 1)")
    .option('--queue <redis-url>', 'redis://HOST:PORT[/db]: enqueue the unfinished cells for `wgml worker`s instead of training here')
    .option('--collect', 'with --queue: fetch the finished cells and write the report')
    .option('--status', 'with --queue: show every cell (waiting, active on which worker, done, failed) and an ETA')
    .option('--attempts <n>', 'with --queue: tries per cell before it is marked failed', '3')
    .action(async (grid: string, o: ExperimentCli, cmd: Command) => {
      if (!PROTOCOLS.includes(o.protocol as Protocol)) throw new Error(`--protocol: expected ${PROTOCOLS.join(' or ')}, got '${o.protocol}'`);
      const progress = createProgress();
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        abort.abort();
        progress.line('interrupt: running cells finish their current step and keep their last epoch checkpoint; nothing new starts (Ctrl-C again to abort)');
      };
      process.on('SIGINT', onSigint);
      let started = false;
      try {
        const r = await runExperiment({
          grid, out: o.out, protocol: o.protocol as Protocol,
          seeds: optionalPositiveInt('seeds', o.seeds), jobs: optionalPositiveInt('jobs', o.jobs),
          data: o.data, ood: o.ood, epochs: optionalPositiveInt('epochs', o.epochs),
          adapter: globalOptions(cmd).adapter, gradcam: o.gradcam, reportOnly: o.reportOnly,
          reuse: o.reuse, queue: o.queue, collect: o.collect, status: o.status, attempts: optionalPositiveInt('attempts', o.attempts),
          command: ['wgml', ...process.argv.slice(2)].join(' '),
          signal: abort.signal,
          onLog: (m) => {
            progress.line(m);
            started = false;
          },
          onProgress: (p) => {
            if (!started) {
              progress.start(`${grid}`, 1000);
              started = true;
            }
            const now = p.running.map((c) => `${c.id} ${c.epoch}/${c.epochs}`).join(', ');
            progress.update(Math.round(p.fraction * 1000), { cells: `${p.done}/${p.total} done${p.failed ? `, ${p.failed} failed` : ''}`, ...(now ? { running: now } : {}) });
          },
        });
        progress.stop();
        if (r.status) {
          printStatus(r.status);
          return;
        }
        if (r.queued) {
          const q = r.queued;
          console.log(`${r.cells.length} cells: ${q.added.length} enqueued, ${q.present.length} already in the queue, ${q.retried.length} failed before and retried, ${r.cells.length - q.added.length - q.present.length - q.retried.length} already finished here`);
          console.log(`start workers with: wgml worker --queue ${o.queue}; then: wgml experiment ${grid} --out ${o.out} --queue ${o.queue} --status | --collect`);
          return;
        }
        if (r.collected) {
          const c = r.collected;
          console.log(`${r.cells.length} cells: ${c.local.length + c.fetched.length} finished (${c.fetched.length} fetched now), ${c.failed.length} failed, ${c.unfinished.length} not finished yet`);
          for (const f of c.failed) console.log(`  failed ${f.id}: ${f.message.split('\n')[0]}`);
          if (c.failed.length) process.exitCode = 1;
        }
        const run = r.run;
        if (run) {
          console.log(`${r.cells.length} cells: ${run.reused.length} already finished, ${run.finished.length} trained now, ${run.failed.length} failed, ${run.interrupted.length} interrupted (${(run.seconds / 60).toFixed(1)} min)`);
          for (const f of run.failed) console.log(`  failed ${f.id}: ${f.message.split('\n')[0]} (${join(o.out, 'cells', f.id, 'error.json')})`);
        }
        if (r.report) console.log(`report: ${join(o.out, 'report.md')} (${r.report.finished}/${r.report.cells} cells)`);
        else console.log('no finished cells yet: no report');
        if (run?.interrupted.length || abort.signal.aborted) process.exitCode = 130;
        else if (run?.failed.length) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSigint);
        progress.stop();
      }
    });
}
