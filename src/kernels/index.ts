// The kernel launchers, importable as 'wgml/kernels': each encodes one or a few dispatches on
// a Runtime over raw buffers (no tape, no shapes beyond what the kernel needs). The tensor-level
// ops with gradients are in 'wgml' (conv2d, batchNorm2d, relu, …).
export { Runtime } from './runtime.js';
export { BufferPool, type PooledBuffer } from './buffer_pool.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, conv2dFlops, type Conv2dShape } from './conv2d.js';
export {
  batchNormTrainForward,
  batchNormEvalForward,
  batchNormBackward,
  batchNormReluTrainForward,
  batchNormReluEvalForward,
  batchNormReluBackward,
  batchNormAddReluTrainForward,
  batchNormAddReluEvalForward,
  batchNormAddReluBackward,
} from './batchnorm.js';
export { maxPool2dForward, maxPool2dBackward, maxPool2dOutputShape, globalAvgPoolForward, globalAvgPoolBackward } from './pool.js';
export { linearForward, linearBackward, biasAdd, biasGrad } from './linear.js';
export { crossEntropy, parseCrossEntropyStats } from './cross_entropy.js';
export { adam, type AdamHyper } from './adam.js';
export { axpby, add, mul, relu, reluBackward, accumulate, fill } from './elementwise.js';
export { axisSum, sumAll, meanAll, rowSum, colSum, channelSum } from './reduce.js';
export { gradCam } from './gradcam.js';
export { focusMetrics, focusSummary, FOCUS_STATS_LENGTH } from './focus_metrics.js';
export { matmulProbe } from './probe.js';
