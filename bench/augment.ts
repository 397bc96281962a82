// Augmentation throughput: augmented images per second, batch 64 at 112×112, per method, on
// the adapter WGML_ADAPTER picks (or --adapter). Each timed batch is encoded and waited for on
// its own (augmentBatch + rt.finish), which is how a training step uses it; JIT happens in a
// warm-up batch outside the timed region.
//
//   npm run bench:augment -- [--adapter lavapipe] [--batches 5] [--batch 64] [--size 112] [--methods none,backmix]
import { Runtime } from '../src/kernels/runtime.js';
import { createAugmenter } from '../src/backmix/augment.js';
import { METHODS, parseMethod, type Method } from '../src/backmix/methods.js';
import type { Dataset, Sample } from '../src/data/dataset.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Frames with a fan-shaped sector, speckle inside and blocks outside (enough structure to be honest work). */
function syntheticDataset(count: number, size: number): Dataset {
  const p = size * size;
  const frames = new Uint8Array(count * p);
  const masks = new Uint8Array(count * p);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < count; i++) {
    const ax = size / 2 + (rnd() - 0.5) * 6;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const q = i * p + y * size + x;
        const dx = x - ax;
        const dy = y - 4;
        const inside = dy >= 0 && Math.hypot(dx, dy) < 0.9 * size && Math.abs(Math.atan2(dx, dy)) < 0.8;
        masks[q] = inside ? 1 : 0;
        frames[q] = inside ? Math.floor(40 + 150 * rnd()) : (Math.floor(x / 6) + Math.floor(y / 4)) % 4 === 0 ? 200 : Math.floor(10 * rnd());
      }
    }
  }
  const samples: Sample[] = Array.from({ length: count }, (_, i) => ({ id: `s${i}`, file: '', label: i % 4, split: 'train', mask: true }));
  return { format: 'manifest', source: 'bench', classes: ['PLAX', 'PSAX-AV', 'A2C', 'A4C'], size, samples, frames, masks, skipped: [], dropped: {} };
}

async function main(): Promise<void> {
  const batch = Number(arg('batch', '64'));
  const size = Number(arg('size', '112'));
  const batches = Number(arg('batches', '5'));
  const methods: (Method | 'preprocess')[] = arg('methods', [...METHODS, 'preprocess'].join(','))
    .split(',')
    .map((m) => (m === 'preprocess' ? 'preprocess' : parseMethod(m)));
  const rt = await Runtime.create({ adapter: arg('adapter', process.env.WGML_ADAPTER ?? 'auto') });
  const ds = syntheticDataset(4 * batch, size);
  console.log(`adapter ${rt.gpu.info.name} (${rt.gpu.info.kind}); batch ${batch} at ${size}×${size}, ${batches} timed batches per method`);
  const rows: string[] = [];
  for (const m of methods) {
    const aug = createAugmenter(rt, ds, { method: m === 'preprocess' ? 'none' : m, fraction: 1, seed: 1, cutmixProb: 1 });
    const pick = (k: number) => Array.from({ length: batch }, (_, b) => (k * 37 + b * 3) % ds.samples.length);
    const once = async (k: number) => {
      const out = m === 'preprocess' ? aug.data.preprocess(pick(k)) : aug.augmentBatch(pick(k));
      await rt.finish(`bench ${m}`);
      rt.release(out.x);
    };
    const t0 = performance.now();
    await once(0);
    const warm = performance.now() - t0;
    const times: number[] = [];
    for (let k = 1; k <= batches; k++) {
      const t = performance.now();
      await once(k);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const line = `${m.padEnd(11)} ${(batch / (median / 1000)).toFixed(0).padStart(7)} img/s   median ${median.toFixed(1).padStart(8)} ms/batch   (min ${times[0]!.toFixed(1)} ms, first batch incl. JIT ${warm.toFixed(0)} ms)`;
    console.log(line);
    rows.push(line);
    aug.dispose();
  }
  rt.destroy();
}

await main();
