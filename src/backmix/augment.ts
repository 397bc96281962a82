// The augmentation launcher: BackMix and the background baselines on the GPU.
//
//   const aug = createAugmenter(rt, dataset, { method: 'backmix', fraction: 0.05, lambda: 1, seed });
//   const { x, weights, labels } = aug.augmentBatch(indices);   // x: [B,1,S,S] f32, z-scored
//   …train on x…; rt.release(x);
//
// `dataset` is a Dataset (the augmenter then uploads and owns its GPU copy) or a GpuDataset
// shared with evaluation. Per batch: one gather of the frames the batch reads (sources, donors) from the resident
// dataset copy, one upload of the packed per-sample parameters (~2 KB per sample), the augment
// dispatch (one invocation per pixel), two more for bokeh-blur, and the z-score dispatch (one
// workgroup per image). Nothing is read back: the caller owns the returned buffers.
import type { Runtime } from '../kernels/runtime.js';
import type { PooledBuffer } from '../kernels/buffer_pool.js';
import type { Dataset } from '../data/dataset.js';
import { AugRng, type RngState } from './rng.js';
import { BOKEH_FACTOR, METHOD_ID, NOISE_MAX, needsMask, type Method } from './methods.js';
import { selectMaskSubset, type MaskSubset, type MaskSubsetMode } from './mask_subset.js';
import { batchWeights } from './weights.js';
import { drawBatchParams, packBatch, type BatchParams } from './augment_params.js';
import { cubicTable } from './warp_tables.js';
import { GpuDataset, AUGMENT_WG, augmentUniform } from './gpu_dataset.js';

export interface AugmenterOptions {
  /** Background method (default 'backmix'). */
  method?: Method;
  /** Nominal supervised fraction f (default 1). */
  fraction?: number;
  /** wBackMix strength λ (default 0: all weights 1). */
  lambda?: number;
  seed?: number;
  /** How the masked subset is chosen (default 'stride', the reference's every int(1/f)-th). */
  maskSubset?: MaskSubsetMode;
  /** Stride mode: which of the int(1/f) disjoint subsets (default 0, the reference's). */
  maskOffset?: number;
  /** Dataset indices of the training samples: the subset and the donors come from these (default all). */
  pool?: readonly number[];
  /** Must equal the dataset's frame size when given. */
  imageSize?: number;
  /** Width of soft targets (default: dataset.classes.length). */
  numClasses?: number;
  /** CutMix probability per batch (default 0.5, Yun et al.'s CIFAR setting). */
  cutmixProb?: number;
  /** bokeh-blur Gaussian σ in pixels (default 3); the kernel reaches ⌈3σ⌉. */
  blurSigma?: number;
  /** Geometric and intensity augmentation (default true; false keeps only the background method). */
  augment?: boolean;
  /** Per-image z-score (default true; false leaves x in [0,1], e.g. for pictures). */
  zscore?: boolean;
  /** Bytes per resident chunk when the augmenter uploads the dataset itself (tests: chunking). */
  chunkBytes?: number;
}

export interface BatchOptions {
  /** Also return the augmented mask [B,1,S,S] f32 (0/1). */
  mask?: boolean;
}

export interface AugmentedBatch {
  /** x: [B,1,S,S] f32, owned by the caller (rt.release it). */
  x: PooledBuffer;
  /** mask: [B,1,S,S] f32 0/1 when requested (zeros for samples without a mask); caller releases. */
  mask?: PooledBuffer;
  /** wBackMix loss weights: [B] f32. */
  weights: Float32Array;
  /** CutMix only: [B,K] f32 label mixtures. */
  softTargets?: Float32Array;
  /** [B] i32 labels of the sources. */
  labels: Int32Array;
  /** inSubset[b] = 1 iff sample b is in the masked subset. */
  inSubset: Uint8Array;
  /** The parameters used (for logs and pictures). */
  params: BatchParams;
}

export interface AugmenterRngState {
  augment: RngState;
  mix: RngState;
}

export interface Augmenter {
  readonly method: Method;
  readonly size: number;
  readonly numClasses: number;
  readonly subset: MaskSubset;
  /** Draws fresh parameters (advancing the RNG) and encodes the batch. */
  augmentBatch(indices: readonly number[], opts?: BatchOptions): AugmentedBatch;
  /** Draws the parameters `augmentBatch` would use, advancing the RNG. */
  drawParams(indices: readonly number[]): BatchParams;
  /** Encodes a batch with given parameters (reproducible pictures, tests). */
  augmentWithParams(params: BatchParams, opts?: BatchOptions): AugmentedBatch;
  /** The GPU copy of the dataset the batches come from (its `preprocess` is evaluation's input). */
  readonly data: GpuDataset;
  getRngState(): AugmenterRngState;
  setRngState(s: AugmenterRngState): void;
  /** GPU bytes of the resident dataset. */
  readonly residentBytes: number;
  /** Frees the augmenter's buffers, and the GPU dataset when the augmenter created it. */
  dispose(): void;
}

/** Smallest h with 2^(2h) ≥ n (Feistel half width). */
export function feistelHalfBits(n: number): number {
  let h = 1;
  while (2 ** (2 * h) < n) h++;
  return h;
}

/** Host copy of the fixed U(0, 30) noise field, drawn once from the seed: [S·S] f32. */
export function noiseField(seed: number, size: number): Float32Array {
  const rng = AugRng.forStream(seed, 'noise-field');
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(0, NOISE_MAX);
  return out;
}

export function createAugmenter(rt: Runtime, source: Dataset | GpuDataset, opts: AugmenterOptions = {}): Augmenter {
  const dataset = source instanceof GpuDataset ? source.dataset : source;
  const method = opts.method ?? 'backmix';
  if (!(method in METHOD_ID)) throw new RangeError(`augment: unknown method '${method}'`);
  const S = dataset.size;
  if (opts.imageSize !== undefined && opts.imageSize !== S) {
    throw new RangeError(`augment: imageSize ${opts.imageSize} but the dataset's frames are ${S}×${S}`);
  }
  const fraction = opts.fraction ?? 1;
  const lambda = opts.lambda ?? 0;
  const seed = opts.seed ?? 0;
  const numClasses = opts.numClasses ?? dataset.classes.length;
  const cutmixProb = opts.cutmixProb ?? 0.5;
  const sigma = opts.blurSigma ?? 3;
  const doAugment = opts.augment ?? true;
  const zscore = opts.zscore ?? true;
  if (!(cutmixProb >= 0 && cutmixProb <= 1)) throw new RangeError(`augment: cutmixProb must be in [0,1], got ${cutmixProb}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`augment: blurSigma must be > 0, got ${sigma}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`augment: numClasses must be a positive integer, got ${numClasses}`);
  const N = dataset.samples.length;
  const hasMask = (i: number) => dataset.masks !== null && dataset.samples[i]!.mask;
  if (source instanceof GpuDataset && source.rt !== rt) throw new RangeError('augment: the GPU dataset belongs to another runtime');

  const subset = selectMaskSubset(dataset.samples, {
    fraction: needsMask(method) ? fraction : 0,
    mode: opts.maskSubset ?? 'stride',
    offset: needsMask(method) ? opts.maskOffset ?? 0 : 0,
    seed,
    ...(opts.pool ? { pool: opts.pool } : {}),
  });
  if (method === 'backmix' && fraction > 0 && subset.indices.length === 0) {
    throw new RangeError(`augment: BackMix with f = ${fraction} selected no sample that has a mask (the dataset has ${dataset.samples.filter((s) => s.mask).length} masks)`);
  }
  // Weights follow the nominal f of the masked methods; other methods train unweighted.
  const weightsActive = needsMask(method);

  const ownsData = !(source instanceof GpuDataset);
  const data = source instanceof GpuDataset ? source : new GpuDataset(rt, source, { chunkBytes: opts.chunkBytes });
  const cubic = rt.upload(cubicTable(), 'augment.cubic');
  const noise = method === 'noise' ? rt.upload(noiseField(seed, S), 'augment.noise') : rt.allocF32(1, 'augment.noise');
  const augRng = AugRng.forStream(seed, 'augment');
  const mixRng = AugRng.forStream(seed, 'mix');
  const halfBits = feistelHalfBits(S * S);
  const blurRadius = Math.ceil(3 * sigma);
  const blurTaps = method === 'bokeh-blur'
    ? rt.upload(Float32Array.from({ length: 2 * blurRadius + 1 }, (_, k) => Math.exp(-((k - blurRadius) ** 2) / (2 * sigma * sigma))), 'augment.blur.taps')
    : null;
  let disposed = false;

  const checkIndices = (indices: readonly number[]) => {
    if (disposed) throw new Error('augment: augmenter used after dispose()');
    data.checkIndices(indices, 'augment');
  };

  const augmentWithParams = (params: BatchParams, bo: BatchOptions = {}): AugmentedBatch => {
    const indices = params.samples.map((s) => s.index);
    checkIndices(indices);
    for (const s of params.samples) {
      if (s.donor >= N) throw new RangeError(`augment: donor ${s.donor} outside 0..${N - 1}`);
      if (s.masked && !hasMask(s.index)) throw new RangeError(`augment: sample ${s.index} is marked masked but has no mask`);
      if (s.masked && method === 'backmix' && s.donor < 0) throw new RangeError(`augment: BackMix sample ${s.index} has no donor`);
      if (s.donor >= 0 && !hasMask(s.donor)) throw new RangeError(`augment: donor ${s.donor} has no mask`);
    }
    const B = indices.length;
    const packed = packBatch(params, S, hasMask);
    // Upload before encoding the gather: a host write flushes pending commands first.
    const sdata = rt.upload(packed.data, 'augment.sdata');
    const { frames, masks } = data.store.gather(packed.slots);
    const x = rt.allocF32(B * S * S, 'augment.x');
    const wantMask = bo.mask ?? false;
    const needMaskBuf = wantMask || method === 'bokeh-blur';
    const mask = needMaskBuf ? rt.allocF32(B * S * S, 'augment.mask') : rt.allocF32(1, 'augment.mask-unused');
    rt.dispatch({
      label: `augment.${method}`,
      shader: 'augment.wgsl',
      entry: data.columns ? 'augment_cols' : 'augment',
      constants: { S, METHOD: METHOD_ID[method], WG: AUGMENT_WG },
      params: augmentUniform(B, needMaskBuf, halfBits, BOKEH_FACTOR),
      bindings: { frames, masks, sdata, cubic, noise, x, mask_out: mask },
      workgroups: data.grid(B),
    });
    if (method === 'bokeh-blur') {
      const tmp = rt.allocF32(B * 2 * S * S, 'augment.blur.tmp');
      const bp = { batch: B, radius: blurRadius };
      for (const entry of ['blur_h', 'blur_v']) {
        rt.dispatch({
          label: `augment.${entry}`,
          shader: 'augment_blur.wgsl',
          entry: data.columns ? `${entry}_cols` : entry,
          constants: { S, WG: AUGMENT_WG },
          params: bp,
          bindings: { sdata, mask, x, tmp, gw: blurTaps! },
          workgroups: data.grid(B),
        });
      }
      rt.release(tmp);
    }
    if (zscore) data.zscore(x, B);
    for (const b of [frames, masks, sdata]) rt.release(b);
    if (!wantMask) rt.release(mask);

    const inSubset = Uint8Array.from(indices, (i) => subset.member[i]!);
    const out: AugmentedBatch = {
      x,
      weights: batchWeights(indices, subset.member, fraction, lambda, weightsActive),
      labels: data.labelsOf(indices),
      inSubset,
      params,
    };
    if (wantMask) out.mask = mask;
    if (params.cutmix) {
      const cm = params.cutmix;
      const soft = new Float32Array(B * numClasses);
      indices.forEach((i, b) => {
        const own = dataset.samples[i]!.label;
        const other = dataset.samples[indices[cm.partner[b]!]!]!.label;
        if (own >= numClasses || other >= numClasses) throw new RangeError(`augment: label ${Math.max(own, other)} ≥ numClasses ${numClasses}`);
        soft[b * numClasses + own]! += cm.lam;
        soft[b * numClasses + other]! += 1 - cm.lam;
      });
      out.softTargets = soft;
    }
    return out;
  };

  const drawParams = (indices: readonly number[]): BatchParams => {
    checkIndices(indices);
    return drawBatchParams(indices, {
      augRng,
      mixRng,
      method,
      member: subset.member,
      subset: subset.indices,
      size: S,
      cutmixProb,
      augment: doAugment,
    });
  };

  return {
    method,
    size: S,
    numClasses,
    subset,
    augmentBatch: (indices, bo) => augmentWithParams(drawParams(indices), bo),
    drawParams,
    augmentWithParams,
    data,
    getRngState: () => ({ augment: augRng.getState(), mix: mixRng.getState() }),
    setRngState: (s) => {
      augRng.setState(s.augment);
      mixRng.setState(s.mix);
    },
    get residentBytes() {
      return data.residentBytes;
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      if (ownsData) data.dispose();
      rt.release(cubic);
      rt.release(noise);
      if (blurTaps) rt.release(blurTaps);
    },
  };
}
