// `wgml predict`: the view of each image, with probabilities and logits; no mask needed.
import type { Command } from 'commander';
import { predict } from '../train/api.js';
import { globalOptions, IMAGE_SIZE_HELP, optionalPositiveInt } from './options.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict the view of images (PNG/JPEG/.npy) with a ResNet18 checkpoint (wgml or PyTorch/torchvision safetensors)')
    .requiredOption('--checkpoint <file>', 'safetensors checkpoint')
    .argument('<images...>', 'image files')
    .option('--classes <a,b,…>', 'class names in output order (when the checkpoint has none)')
    .option('--image-size <px>', `${IMAGE_SIZE_HELP}; frames are resized (lanczos3), then /255 and per-image z-score`)
    .option('--json', 'print JSON')
    .action(async (images: string[], o: { checkpoint: string; classes?: string; imageSize?: string; json?: boolean }, cmd: Command) => {
      const preds = await predict({
        checkpoint: o.checkpoint, images, adapter: globalOptions(cmd).adapter,
        classes: o.classes?.split(',').map((s) => s.trim()), imageSize: optionalPositiveInt('image-size', o.imageSize),
      });
      if (o.json) {
        console.log(JSON.stringify(preds, null, 2));
        return;
      }
      for (const p of preds) {
        const probs = Object.entries(p.probabilities).map(([c, v]) => `${c} ${(v * 100).toFixed(1)}%`).join('  ');
        console.log(`${p.file}\t${p.view}\t${probs}`);
      }
    });
}
