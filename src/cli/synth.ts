// `wgml synth`: writes the synthetic echo benchmark (frames, masks, manifest.csv, synth.json)
// and prints how many frames each split and class got.
import type { Command } from 'commander';
import { formatCounts } from '../data/dataset.js';
import { synthesize, SYNTH_DEFAULTS, SYNTH_SPLITS, type SplitFractions, type SynthResult, type SynthSplit } from '../data/synth/index.js';

export interface SynthCliOptions {
  out: string;
  n: string;
  seed: string;
  size: string;
  shortcut: string;
  hard: string;
  splits?: string;
  json?: boolean;
}

/** "train=0.7,val=0.1,test=0.1,ood-test=0.1" → fractions (names checked, values ≥ 0). */
export function parseSplits(text: string): Partial<SplitFractions> {
  const out: Partial<SplitFractions> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((t) => t.trim());
    const v = Number(value);
    if (!(SYNTH_SPLITS as readonly string[]).includes(name ?? '') || value === undefined || !Number.isFinite(v) || v < 0) {
      throw new Error(`--splits: expected name=fraction pairs with names from ${SYNTH_SPLITS.join(', ')}, got '${part}'`);
    }
    out[name as SynthSplit] = v;
  }
  return out;
}

function integer(name: string, text: string, min: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got '${text}'`);
  return v;
}

function fraction(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`--${name}: expected a number in [0, 1], got '${text}'`);
  return v;
}

/** The text summary printed after generation: counts per split × class, cue agreement, time. */
export function formatSynthSummary(r: SynthResult, seconds: number): string {
  const match: Record<string, [number, number]> = {};
  for (const s of r.samples) {
    const m = (match[s.split] ??= [0, 0]);
    m[0] += s.cueMatchesLabel ? 1 : 0;
    m[1]++;
  }
  const agreement = Object.entries(match)
    .map(([split, [a, n]]) => `${split} ${((100 * a) / n).toFixed(0)}%`)
    .join(', ');
  return [
    `wrote ${r.samples.length} frames and masks to ${r.out} in ${seconds.toFixed(1)} s`,
    formatCounts(r.counts, r.classes),
    `background cue names the true view: ${agreement}`,
    `manifest: ${r.manifest}`,
  ].join('\n');
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('generate the synthetic echo view benchmark with a background shortcut (docs/DESIGN.md, "The synthetic benchmark")')
    .requiredOption('--out <dir>', 'output folder (new, empty, or an earlier synth output)')
    .option('--n <n>', 'number of frames', String(SYNTH_DEFAULTS.n))
    .option('--seed <s>', 'random seed (same seed, same bytes)', String(SYNTH_DEFAULTS.seed))
    .option('--size <px>', 'frame size (H = W)', String(SYNTH_DEFAULTS.size))
    .option('--shortcut <p>', 'probability the in-distribution background cue names the true view', String(SYNTH_DEFAULTS.shortcutStrength))
    .option('--hard <p>', 'fraction of frames with the heart hidden by a shadow or dropout', String(SYNTH_DEFAULTS.hardFraction))
    .option('--splits <list>', 'relative split sizes by patient, e.g. train=0.67,val=0.11,test=0.11,ood-test=0.11')
    .option('--json', 'print the counts as JSON')
    .action(async (opts: SynthCliOptions) => {
      const n = integer('n', opts.n, 1);
      const started = performance.now();
      const tty = process.stderr.isTTY === true;
      let last = 0;
      const result = await synthesize({
        out: opts.out,
        n,
        seed: integer('seed', opts.seed, 0),
        size: integer('size', opts.size, 32),
        shortcutStrength: fraction('shortcut', opts.shortcut),
        hardFraction: fraction('hard', opts.hard),
        ...(opts.splits ? { splits: parseSplits(opts.splits) } : {}),
        onProgress: (done, total) => {
          // redraw at most every 2% so a pipe or CI log is not flooded
          if (!tty || (done < total && done - last < total / 50)) return;
          last = done;
          process.stderr.write(`\rsynth ${done}/${total}${done === total ? '\n' : ''}`);
        },
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(opts.json ? JSON.stringify({ out: result.out, counts: result.counts, seconds }, null, 2) : formatSynthSummary(result, seconds));
    });
}
