// `wgml gradcam`: GradCAM overlays (frame + heatmap + mask outline) and a contact sheet.
import type { Command } from 'commander';
import { writeGradCamImages } from '../train/gradcam_images.js';
import { globalOptions, IMAGE_SIZE_HELP, optionalPositiveInt } from './options.js';

export function registerGradcam(program: Command): void {
  program
    .command('gradcam')
    .description('GradCAM heatmaps of a checkpoint on dataset images, as PNG overlays and a contact sheet')
    .requiredOption('--checkpoint <file>', 'safetensors checkpoint')
    .requiredOption('--data <dir|csv>', 'dataset')
    .requiredOption('--out <dir>', 'output directory')
    .option('-n <count>', 'images', '32')
    .option('--split <name>', 'split to draw from (or all)', 'test')
    .option('--target <t>', 'pred | true', 'pred')
    .option('--classes <a,b,…>', 'class names in output order (when the checkpoint has none)')
    .option('--image-size <px>', IMAGE_SIZE_HELP)
    .option('--json', 'print JSON')
    .action(async (o: { checkpoint: string; data: string; out: string; n: string; split: string; target: string; classes?: string; imageSize?: string; json?: boolean }, cmd: Command) => {
      if (o.target !== 'pred' && o.target !== 'true') throw new Error(`--target: expected pred or true, got '${o.target}'`);
      const r = await writeGradCamImages({
        checkpoint: o.checkpoint, data: o.data, out: o.out, n: Number(o.n), split: o.split, target: o.target,
        adapter: globalOptions(cmd).adapter, classes: o.classes?.split(',').map((s) => s.trim()), imageSize: optionalPositiveInt('image-size', o.imageSize),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else console.log(`wrote ${r.images.length} overlays and ${r.sheet}`);
    });
}
