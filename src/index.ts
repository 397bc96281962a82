// wgml's library API: the same capabilities as the CLI (which is a thin layer over these), and
// the pieces to write your own training loop (Runtime, Tensor, scope, ResNet18, Adam, GpuDataset,
// createAugmenter, trainStep). Kernel launchers over raw buffers: 'wgml/kernels'.
export { Runtime } from './kernels/runtime.js';
export { openGpu, listAdapters, GpuError, type GpuInfo, type AdapterChoice } from './kernels/device.js';
export { Tensor, scope } from './nn/tensor.js';
export { Tape, noGrad } from './nn/tape.js';
export { Module } from './nn/module.js';
export { Conv2d } from './nn/layers/conv2d.js';
export { BatchNorm2d } from './nn/layers/batchnorm2d.js';
export { Linear } from './nn/layers/linear.js';
export { conv2d } from './nn/ops/conv2d.js';
export { batchNorm2d } from './nn/ops/batchnorm.js';
export { relu } from './nn/ops/relu.js';
export { add } from './nn/ops/add.js';
export { linear } from './nn/ops/linear.js';
export { maxPool2d, globalAvgPool } from './nn/ops/pool.js';
export { crossEntropyLoss, type CrossEntropyResult, type CrossEntropyTargets } from './nn/ops/cross_entropy.js';
export { ResNet18, DEFAULT_RESNET18, type ResNet18Config, type Stem } from './nn/resnet18.js';
export { BasicBlock } from './nn/basic_block.js';
export { Adam } from './nn/adam.js';
export { saveModel, loadModelFile, exportStateDict, importStateDict } from './nn/state_dict.js';
export { readSafetensors, writeSafetensors } from './nn/safetensors.js';
export { gradCamBatch } from './nn/gradcam.js';
export { trainStep, encodeTrainStep, augmentedInputs, type StepInputs, type StepStats } from './train/step.js';
export { train, TrainingDivergedError, type TrainResult, type TrainHooks } from './train/trainer.js';
export { PAPER_DEFAULTS, SYNTHETIC_CPU_DEFAULTS, type TrainConfig } from './train/config.js';
export { evaluateModel, type EvaluationResult, type EvaluateOptions } from './train/evaluate.js';
export { evaluateCheckpoint, aggregateEvaluations, predict, type Prediction, type CheckpointEvaluation } from './train/api.js';
export { writeGradCamImages } from './train/gradcam_images.js';
export { classificationReport, confusionMatrix } from './train/metrics.js';
export { loadDataset, splitIndices, synthesize, type Dataset } from './data/index.js';
export { createAugmenter, type Augmenter, type AugmenterOptions, type AugmentedBatch } from './backmix/augment.js';
export { GpuDataset, type PreprocessedBatch } from './backmix/gpu_dataset.js';
export { METHODS, type Method } from './backmix/methods.js';
