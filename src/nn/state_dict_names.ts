// ResNet18 state-dict names and shapes, exactly as torchvision's `resnet18().state_dict()`
// (docs/DESIGN.md, "Rules we hold to"), for both stems wgml builds:
//   imagenet: conv1 7×7 stride 2 pad 3 + max-pool (torchvision's own stem)
//   cifar:    conv1 3×3 stride 1 pad 1, no max-pool (the BackMix reference's CIFAR-style ResNet18)
// The stem changes only conv1's kernel size; max-pool and ReLU hold no state, so the key list is the
// same for both. Layouts are PyTorch's: conv weights OIHW, Linear [out, in], BN vectors [C],
// num_batches_tracked a 0-dim I64.
//
// The BackMix reference code names two things differently (models/resnet.py: `shortcut` for the
// projection and `linear` for the classifier); {@link fromBackMixReferenceKey} maps them.

export type ResNetStem = 'cifar' | 'imagenet';

export interface ResNet18Config {
  stem: ResNetStem;
  inChannels: 1 | 3;
  numClasses: number;
  /** Base channel count (layer1's width); torchvision's is 64. Stages are w, 2w, 4w, 8w. */
  width?: number;
}

export type StateDictDtype = 'F32' | 'I64';

export interface StateDictEntry {
  name: string;
  shape: number[];
  dtype: StateDictDtype;
  /** 'parameter' is trained (gets gradients); 'buffer' is BN running statistics. */
  kind: 'parameter' | 'buffer';
}

export const DEFAULT_WIDTH = 64;
const BLOCKS_PER_STAGE = 2;

/** Kernel size of conv1 for each stem. */
export const STEM_KERNEL: Record<ResNetStem, number> = { imagenet: 7, cifar: 3 };

function validateConfig(config: ResNet18Config): Required<ResNet18Config> {
  const width = config.width ?? DEFAULT_WIDTH;
  if (config.stem !== 'cifar' && config.stem !== 'imagenet') throw new Error(`ResNet18 config: stem must be 'cifar' or 'imagenet', got ${String(config.stem)}`);
  if (config.inChannels !== 1 && config.inChannels !== 3) throw new Error(`ResNet18 config: inChannels must be 1 or 3, got ${String(config.inChannels)}`);
  if (!Number.isInteger(config.numClasses) || config.numClasses < 1) throw new Error(`ResNet18 config: numClasses must be a positive integer, got ${config.numClasses}`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`ResNet18 config: width must be a positive integer, got ${width}`);
  return { stem: config.stem, inChannels: config.inChannels, numClasses: config.numClasses, width };
}

function batchNorm(prefix: string, c: number): StateDictEntry[] {
  return [
    { name: `${prefix}.weight`, shape: [c], dtype: 'F32', kind: 'parameter' },
    { name: `${prefix}.bias`, shape: [c], dtype: 'F32', kind: 'parameter' },
    { name: `${prefix}.running_mean`, shape: [c], dtype: 'F32', kind: 'buffer' },
    { name: `${prefix}.running_var`, shape: [c], dtype: 'F32', kind: 'buffer' },
    { name: `${prefix}.num_batches_tracked`, shape: [], dtype: 'I64', kind: 'buffer' },
  ];
}

function conv(name: string, out: number, inp: number, k: number): StateDictEntry {
  return { name, shape: [out, inp, k, k], dtype: 'F32', kind: 'parameter' };
}

/** Every state-dict entry of a ResNet18, in torchvision's `state_dict()` order. */
export function resnet18StateDictEntries(config: ResNet18Config): StateDictEntry[] {
  const { stem, inChannels, numClasses, width: w } = validateConfig(config);
  const out: StateDictEntry[] = [conv('conv1.weight', w, inChannels, STEM_KERNEL[stem]), ...batchNorm('bn1', w)];
  let inplanes = w;
  for (let stage = 1; stage <= 4; stage++) {
    const planes = w * 2 ** (stage - 1);
    for (let b = 0; b < BLOCKS_PER_STAGE; b++) {
      const p = `layer${stage}.${b}`;
      out.push(conv(`${p}.conv1.weight`, planes, inplanes, 3), ...batchNorm(`${p}.bn1`, planes));
      out.push(conv(`${p}.conv2.weight`, planes, planes, 3), ...batchNorm(`${p}.bn2`, planes));
      // torchvision adds a 1×1 projection when stride ≠ 1 or channels change: the first block of
      // layers 2–4 (layer1 keeps width and stride 1).
      if (b === 0 && stage > 1) out.push(conv(`${p}.downsample.0.weight`, planes, inplanes, 1), ...batchNorm(`${p}.downsample.1`, planes));
      inplanes = planes;
    }
  }
  out.push({ name: 'fc.weight', shape: [numClasses, 8 * w], dtype: 'F32', kind: 'parameter' });
  out.push({ name: 'fc.bias', shape: [numClasses], dtype: 'F32', kind: 'parameter' });
  return out;
}

/** name → shape for every state-dict entry (insertion order = torchvision's order). */
export function resnet18StateDictShapes(config: ResNet18Config): Record<string, number[]> {
  const r: Record<string, number[]> = {};
  for (const e of resnet18StateDictEntries(config)) r[e.name] = e.shape;
  return r;
}

/** Number of trainable scalars (what `sum(p.numel() for p in model.parameters())` gives). */
export function resnet18ParameterCount(config: ResNet18Config): number {
  return resnet18StateDictEntries(config)
    .filter((e) => e.kind === 'parameter')
    .reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0);
}

/** name → shape from anything that carries a shape (e.g. readSafetensors' tensors, or header entries). */
export function shapesOf(tensors: Record<string, { shape: readonly number[] }> | ReadonlyArray<{ name: string; shape: readonly number[] }>): Record<string, number[]> {
  const r: Record<string, number[]> = {};
  if (Array.isArray(tensors)) for (const t of tensors as ReadonlyArray<{ name: string; shape: readonly number[] }>) r[t.name] = [...t.shape];
  else for (const [k, v] of Object.entries(tensors as Record<string, { shape: readonly number[] }>)) r[k] = [...v.shape];
  return r;
}

function fmt(shape: readonly number[] | undefined): string {
  return shape === undefined ? '(absent)' : `[${shape.join(',')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export interface StateDictReport {
  ok: boolean;
  missing: Array<{ key: string; expected: number[] }>;
  unexpected: Array<{ key: string; found: number[] }>;
  mismatched: Array<{ key: string; expected: number[]; found: number[] }>;
  /** dtype mismatches, only when `dtypes` was given (e.g. num_batches_tracked stored as F32). */
  wrongDtype: Array<{ key: string; expected: StateDictDtype; found: string }>;
  /** One human-readable line per problem, naming the key, expected and found shape. */
  messages: string[];
}

/**
 * Compare a state dict's shapes (and, optionally, dtypes) to what `config` needs, like PyTorch's
 * `load_state_dict(strict=True)` but listing every problem at once.
 */
export function checkStateDict(
  config: ResNet18Config,
  shapes: Record<string, readonly number[]>,
  dtypes?: Record<string, string>,
): StateDictReport {
  const want = resnet18StateDictEntries(config);
  const wantNames = new Set(want.map((e) => e.name));
  const r: StateDictReport = { ok: true, missing: [], unexpected: [], mismatched: [], wrongDtype: [], messages: [] };
  for (const e of want) {
    const found = Object.prototype.hasOwnProperty.call(shapes, e.name) ? shapes[e.name] : undefined;
    if (found === undefined) {
      r.missing.push({ key: e.name, expected: e.shape });
      r.messages.push(`missing key ${e.name} (expected shape ${fmt(e.shape)})`);
    } else if (!sameShape(found, e.shape)) {
      r.mismatched.push({ key: e.name, expected: e.shape, found: [...found] });
      r.messages.push(`shape mismatch for ${e.name}: expected ${fmt(e.shape)}, found ${fmt(found)}`);
    }
    const dt = dtypes && Object.prototype.hasOwnProperty.call(dtypes, e.name) ? dtypes[e.name] : undefined;
    if (dt !== undefined && dt !== e.dtype) {
      r.wrongDtype.push({ key: e.name, expected: e.dtype, found: dt });
      r.messages.push(`dtype mismatch for ${e.name}: expected ${e.dtype}, found ${dt}`);
    }
  }
  for (const key of Object.keys(shapes)) {
    if (!wantNames.has(key)) {
      r.unexpected.push({ key, found: [...shapes[key]!] });
      r.messages.push(`unexpected key ${key} (shape ${fmt(shapes[key])})`);
    }
  }
  r.ok = r.messages.length === 0;
  return r;
}

function configName(c: Required<ResNet18Config>): string {
  return `ResNet18 {stem: ${c.stem}, inChannels: ${c.inChannels}, numClasses: ${c.numClasses}, width: ${c.width}}`;
}

/** Join at most `max` problem lines, saying how many were left out. */
function summarize(messages: string[], max = 12): string {
  const shown = messages.slice(0, max).map((m) => `  - ${m}`);
  if (messages.length > max) shown.push(`  … and ${messages.length - max} more`);
  return shown.join('\n');
}

/** Throw if `shapes` does not fit `config`, listing every missing/unexpected/mismatching key. */
export function assertStateDict(config: ResNet18Config, shapes: Record<string, readonly number[]>, source = 'state dict', dtypes?: Record<string, string>): void {
  const r = checkStateDict(config, shapes, dtypes);
  if (!r.ok) {
    throw new Error(`${source} does not match ${configName(validateConfig(config))}: ${r.messages.length} problem(s)\n${summarize(r.messages)}`);
  }
}

/**
 * Recover the config from a torchvision-named ResNet18 state dict's shapes: stem from conv1's
 * kernel size (7 → imagenet, 3 → cifar), inChannels and width from conv1.weight, numClasses from
 * fc.weight; then checks every other key against that config. Errors name the offending key and
 * shapes, and hint at the BackMix reference's names (`shortcut`, `linear`) when they are present.
 */
export function inferConfigFromShapes(shapes: Record<string, readonly number[]>, source = 'state dict'): Required<ResNet18Config> {
  const get = (k: string): readonly number[] | undefined => (Object.prototype.hasOwnProperty.call(shapes, k) ? shapes[k] : undefined);
  const keys = Object.keys(shapes);
  const notResNet = (why: string): never => {
    let hint = '';
    if (keys.some((k) => k.startsWith('linear.') || k.includes('.shortcut.'))) {
      hint = ' (keys look like the BackMix reference model, which uses `shortcut`/`linear`; map them with fromBackMixReferenceKey)';
    } else if (keys.length > 0 && keys.every((k) => k.startsWith('module.'))) {
      hint = ' (keys start with "module.": saved from nn.DataParallel; strip that prefix)';
    }
    throw new Error(`${source} is not a torchvision-named ResNet18: ${why}${hint}`);
  };
  const c1 = get('conv1.weight');
  if (c1 === undefined) return notResNet(`missing key conv1.weight (found ${keys.length} keys${keys.length ? `, e.g. ${keys.slice(0, 3).join(', ')}` : ''})`);
  if (c1.length !== 4 || c1[2] !== c1[3]) return notResNet(`conv1.weight has shape ${fmt(c1)}, expected [width, inChannels, k, k] with k = 7 (imagenet) or 3 (cifar)`);
  const k = c1[2]!;
  const stem: ResNetStem | undefined = k === 7 ? 'imagenet' : k === 3 ? 'cifar' : undefined;
  if (stem === undefined) return notResNet(`conv1.weight has shape ${fmt(c1)}: kernel ${k}×${k} is neither 7×7 (imagenet stem) nor 3×3 (cifar stem)`);
  const inChannels = c1[1]!;
  if (inChannels !== 1 && inChannels !== 3) return notResNet(`conv1.weight has shape ${fmt(c1)}: ${inChannels} input channels, wgml supports 1 or 3`);
  const width = c1[0]!;
  if (!(width >= 1)) return notResNet(`conv1.weight has shape ${fmt(c1)}: width must be at least 1`);
  const fcw = get('fc.weight');
  if (fcw === undefined) return notResNet('missing key fc.weight');
  if (fcw.length !== 2 || fcw[1] !== 8 * width || !(fcw[0]! >= 1)) {
    return notResNet(`fc.weight has shape ${fmt(fcw)}, but conv1.weight ${fmt(c1)} implies width ${width}, so fc.weight must be [numClasses, ${8 * width}]`);
  }
  const config: Required<ResNet18Config> = { stem, inChannels, numClasses: fcw[0]!, width };
  const r = checkStateDict(config, shapes);
  if (!r.ok) {
    throw new Error(`${source} is not a torchvision-named ResNet18: conv1/fc suggest ${configName(config)}, but ${r.messages.length} key(s) disagree\n${summarize(r.messages)}`);
  }
  return config;
}

/**
 * Map a key of the BackMix reference model (models/resnet.py: `layerN.0.shortcut.{0,1}.*`, `linear.*`)
 * to torchvision's name (`layerN.0.downsample.{0,1}.*`, `fc.*`). Other keys are returned unchanged.
 */
export function fromBackMixReferenceKey(key: string): string {
  if (key.startsWith('linear.')) return `fc.${key.slice('linear.'.length)}`;
  return key.replace(/^(layer\d+\.\d+)\.shortcut\./, '$1.downsample.');
}

/** Inverse of {@link fromBackMixReferenceKey}: torchvision name → BackMix reference name. */
export function toBackMixReferenceKey(key: string): string {
  if (key.startsWith('fc.')) return `linear.${key.slice('fc.'.length)}`;
  return key.replace(/^(layer\d+\.\d+)\.downsample\./, '$1.shortcut.');
}
