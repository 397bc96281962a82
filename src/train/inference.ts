// Checkpoint-level inference shared by `wgml eval`, `predict` and `gradcam`: open any
// torchvision-style ResNet18 safetensors (wgml's or PyTorch's), preprocess exactly as training
// does without augmentation (resize, /255, per-image z-score), and run it on the GPU.
import { existsSync } from 'node:fs';
import { Runtime } from '../kernels/runtime.js';
import { loadModelFile } from '../nn/state_dict.js';
import type { ResNet18 } from '../nn/resnet18.js';
import { Tensor } from '../nn/tensor.js';
import { CANONICAL_CLASSES, readGray, resizeFrame, type Dataset } from '../data/index.js';

export interface OpenedCheckpoint {
  rt: Runtime;
  model: ResNet18;
  classes: string[];
  path: string;
  /** The size the model was trained at ('wgml.image_size' metadata), null when the file has none. */
  imageSize: number | null;
  close(): void;
}

/** Class names: --classes wins, then the file's metadata, then the four views for 4 outputs. */
export function resolveClasses(numClasses: number, fromFile: string[] | null, override?: string[], source = 'checkpoint'): string[] {
  const classes = override ?? fromFile ?? (numClasses === CANONICAL_CLASSES.length ? [...CANONICAL_CLASSES] : null);
  if (!classes) throw new Error(`${source}: has ${numClasses} outputs and no class names; pass --classes a,b,c,…`);
  if (classes.length !== numClasses) {
    throw new Error(`${source}: has ${numClasses} outputs but ${classes.length} class names were given (${classes.join(', ')})`);
  }
  return classes;
}

export async function openCheckpoint(path: string, o: { adapter?: string; classes?: string[] } = {}): Promise<OpenedCheckpoint> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const rt = await Runtime.create({ adapter: o.adapter });
  try {
    const loaded = await loadModelFile(rt, path);
    const classes = resolveClasses(loaded.config.numClasses, loaded.classes, o.classes, path);
    loaded.model.eval();
    return {
      rt, model: loaded.model, classes, path, imageSize: trainedImageSize(loaded.metadata, path),
      close: () => {
        loaded.model.dispose();
        rt.destroy();
      },
    };
  } catch (e) {
    rt.destroy();
    throw e;
  }
}

function trainedImageSize(metadata: Record<string, string>, path: string): number | null {
  const raw = metadata['wgml.image_size'];
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${path}: metadata 'wgml.image_size' should be a positive integer, got '${raw}'`);
  return n;
}

/** The network input for `x` ([B,1,S,S] from the augmenter): repeated to 3 channels for RGB models. */
export function toModelInput(ck: OpenedCheckpoint, x: Tensor): Tensor {
  const inC = ck.model.config.inChannels;
  if (inC === 1) return x;
  const [B, , S] = x.shape as [number, number, number];
  const out = Tensor.empty(ck.rt, [B, inC, S, S], 'input.rgb');
  const plane = S * S * 4;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < inC; c++) ck.rt.encoder.copy(x.buffer, b * plane, out.buffer, (b * inC + c) * plane, plane);
  }
  return out;
}

/** Reads image files (PNG/JPEG/.npy via the dataset layer's decoders) into an in-memory dataset. */
export async function imagesAsDataset(files: string[], size: number, classes: string[]): Promise<Dataset> {
  const frames = new Uint8Array(files.length * size * size);
  for (let i = 0; i < files.length; i++) {
    const img = await readGray(files[i]!).catch((e: Error) => {
      throw new Error(`${files[i]}: ${e.message}`);
    });
    frames.set(await resizeFrame(img, size), i * size * size);
  }
  return {
    format: 'subset',
    source: files.length === 1 ? files[0]! : `${files.length} images`,
    classes,
    size,
    samples: files.map((file, i) => ({ id: `${i}:${file}`, file, label: 0, split: 'predict', mask: false })),
    frames,
    masks: null,
    skipped: [],
    dropped: {},
  };
}

