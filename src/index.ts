// wgml's library API: the same capabilities as the CLI (which is a thin layer over these).
export { Runtime } from './kernels/runtime.js';
export { openGpu, listAdapters, GpuError, type GpuInfo, type AdapterChoice } from './kernels/device.js';
export { Tensor, scope } from './nn/tensor.js';
export { Tape, noGrad } from './nn/tape.js';
export { ResNet18, DEFAULT_RESNET18, type ResNet18Config, type Stem } from './nn/resnet18.js';
export { Adam } from './nn/adam.js';
export { saveModel, loadModelFile as loadCheckpoint, exportStateDict, importStateDict } from './nn/state_dict.js';
export { readSafetensors, writeSafetensors } from './nn/safetensors.js';
export { gradCamBatch } from './nn/gradcam.js';
export { train, TrainingDivergedError, type TrainResult, type TrainHooks } from './train/trainer.js';
export { PAPER_DEFAULTS, SYNTHETIC_CPU_DEFAULTS, type TrainConfig } from './train/config.js';
export { evaluateCheckpoint as evaluate, aggregateEvaluations, predict, type Prediction } from './train/api.js';
export { writeGradCamImages } from './train/gradcam_images.js';
export { classificationReport, confusionMatrix } from './train/metrics.js';
export { loadDataset, synthesize, type Dataset } from './data/index.js';
export { createAugmenter, type Augmenter } from './backmix/augment.js';
export { METHODS, type Method } from './backmix/methods.js';
