// Public surface of the augmentation layer (see docs/augmentation.md).
export {
  createAugmenter,
  feistelHalfBits,
  noiseField,
  type Augmenter,
  type AugmenterOptions,
  type AugmentedBatch,
  type AugmenterRngState,
  type BatchOptions,
} from './augment.js';
export { GpuDataset, augmentShape, type AugmentShape, type GpuDatasetOptions, type PreprocessOptions, type PreprocessedBatch } from './gpu_dataset.js';
export { METHODS, METHOD_ID, BOKEH_FACTOR, NOISE_MAX, needsMask, parseMethod, type Method } from './methods.js';
export { selectMaskSubset, strideForFraction, sortedById, type MaskSubset, type MaskSubsetMode, type MaskSubsetOptions } from './mask_subset.js';
export { batchWeights, maskedWeight, unmaskedWeight } from './weights.js';
export { drawDonor } from './donors.js';
export { AugRng, streamSeed, type RngState } from './rng.js';
export {
  drawBatchParams,
  drawCutMix,
  identityParams,
  contrastLut,
  ROTATE_LIMIT_DEG,
  CONTRAST_LIMIT,
  BRIGHTNESS_LIMIT,
  FLIP_PROB,
  type BatchParams,
  type SampleParams,
  type CutMixParams,
} from './augment_params.js';
export { DatasetStore } from './gpu_store.js';
