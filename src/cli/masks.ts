// `wgml masks`: automatic sector masks for a dataset that ships none (TMED-2, the BackMix
// layout without masking2/, a manifest without a mask column), so BackMix can use it. Classical
// image processing, no network: docs/DECISIONS.md, "Automatic sector masks".
import type { Command } from 'commander';
import { DEFAULT_MIN_CONFIDENCE, MASK_METHODS, runMasks, type MaskRunResult } from '../masks/run.js';
import type { FitMethod } from '../masks/detect.js';
import { createProgress } from './progress.js';

export interface MasksCliOptions {
  data: string;
  out: string;
  method: string;
  minConfidence: string;
  preview: string;
  overwrite?: boolean;
  reference?: string;
  json?: boolean;
}

/** The text summary: counts, where things went, speed, and IoU per site with --reference. */
export function formatMasksSummary(r: MaskRunResult): string {
  const lines = [
    `${r.frames} frames: ${r.auto} masked automatically (${r.fromGroup} from their group's consensus), ${r.kept} kept their own mask, ` +
      `${r.lowConfidence} left without a mask (confidence below the minimum or no sector found; they take no part in BackMix)`,
    `manifest ${r.manifest}`,
    `per-frame report ${r.report}`,
  ];
  if (r.preview) lines.push(`preview ${r.preview}`);
  lines.push(`${r.seconds.total.toFixed(1)} s (${(r.frames / r.seconds.total).toFixed(0)} frames/s)`);
  if (r.reference) {
    lines.push('IoU with the reference masks (frames left without a mask count 0):');
    for (const s of r.reference) {
      lines.push(`  ${s.site}: mean ${s.meanIou.toFixed(4)} over ${s.frames} frames (masked only ${s.meanIouMasked.toFixed(4)}), min ${s.minIou.toFixed(3)}, unmasked ${s.unmasked}`);
    }
  }
  return lines.join('\n');
}

function confidence(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`--min-confidence: expected a number in [0, 1], got '${text}'`);
  return v;
}

function count(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 0) throw new Error(`--preview: expected a non-negative integer, got '${text}'`);
  return v;
}

export function registerMasks(program: Command): void {
  program
    .command('masks')
    .description('fit a binary ultrasound-sector mask to every frame (fan or convex hull, no hand labelling) and write a manifest that uses them')
    .requiredOption('--data <dir|csv>', 'dataset: manifest CSV, TMED-2 CSV, or a folder with manifest.csv or the BackMix layout')
    .requiredOption('--out <dir>', 'output folder: masks/, manifest.csv, masks.csv, masks.json[, preview.png]')
    .option('--method <m>', `${MASK_METHODS.join(' | ')}: fitted fan (apex, two edges, arcs) or convex hull of the sector region`, 'fan')
    .option('--min-confidence <c>', 'frames whose mask agrees less than this with the frame (IoU, 0..1) get no mask', String(DEFAULT_MIN_CONFIDENCE))
    .option('--preview <n>', 'contact sheet of the n least confident frames with the mask outline', '0')
    .option('--overwrite', 'fit masks also for frames that already have one, and use the new ones')
    .option('--reference <dir|csv>', 'a dataset with true masks for the same frames: report IoU per site and outline them in the preview')
    .option('--json', 'print the summary as JSON')
    .action(async (o: MasksCliOptions) => {
      if (!(MASK_METHODS as readonly string[]).includes(o.method)) throw new Error(`--method: expected ${MASK_METHODS.join(' or ')}, got '${o.method}'`);
      const minConfidence = confidence(o.minConfidence);
      const preview = count(o.preview);
      const progress = createProgress();
      let phase = '';
      let last = 0;
      const tty = !!process.stderr.isTTY && !process.env.CI;
      const result = await runMasks({
        data: o.data,
        out: o.out,
        method: o.method as FitMethod,
        minConfidence,
        preview,
        overwrite: !!o.overwrite,
        ...(o.reference ? { reference: o.reference } : {}),
        onProgress: (p, done, total) => {
          if (p !== phase) {
            progress.stop();
            phase = p;
            last = 0;
            progress.start(p === 'fit' ? 'fit  ' : 'write', total);
          }
          progress.update(done);
          // without a terminal: one line per quarter, so a log shows the run moving
          if (!tty && (done === total || done - last >= total / 4)) {
            last = done;
            process.stderr.write(`masks ${p} ${done}/${total}\n`);
          }
        },
      });
      progress.stop();
      if (o.json) {
        const { records: _records, ...rest } = result;
        console.log(JSON.stringify(rest, null, 2));
      } else console.log(formatMasksSummary(result));
    });
}
