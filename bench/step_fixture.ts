// The training step the step benchmarks run (bench/step_ab.ts, bench/step_profile.ts): ResNet18
// with a 1-channel input and 4 classes, forward, weighted cross-entropy, backward and Adam on
// fixed data, so the only thing that changes between steps is the code under test.
import { ResNet18, Adam, Tensor, scope, type Runtime, type Stem } from '../src/index.js';
import { trainStep } from '../src/train/step.js';
import { rand } from '../src/bench/suite.js';

export interface StepShape {
  /** The benchmark suite's name: 'torchvision' is ResNet18's 'imagenet' stem. */
  stem: 'torchvision' | 'cifar';
  width: number;
  batch: number;
  size: number;
}

/** The step benchmarks' default: the issue's measure, torchvision stem, width 64, batch 16, 112². */
export const DEFAULT_STEP_SHAPE: StepShape = { stem: 'torchvision', width: 64, batch: 16, size: 112 };

/** Takes --stem, --width, --batch or --size into `s`; false for any other flag. */
export function stepShapeFlag(s: Partial<StepShape>, flag: string, value: () => string): boolean {
  if (flag === '--stem') s.stem = value() as StepShape['stem'];
  else if (flag === '--width') s.width = Number(value());
  else if (flag === '--batch') s.batch = Number(value());
  else if (flag === '--size') s.size = Number(value());
  else return false;
  return true;
}

/** What is wrong with a parsed step shape, one line per flag. */
export function stepShapeErrors(s: Partial<StepShape>): string[] {
  const errors: string[] = [];
  if (!['cifar', 'torchvision'].includes(s.stem!)) errors.push('--stem must be torchvision or cifar');
  for (const k of ['width', 'batch', 'size'] as const) {
    if (!(Number.isInteger(s[k]) && s[k]! > 0)) errors.push(`--${k} must be a positive integer`);
  }
  return errors;
}

/** One training step as a function (not wrapped in Runtime.step: callers choose). */
export function fixedTrainingStep(rt: Runtime, s: StepShape): () => Promise<void> {
  const stem: Stem = s.stem === 'cifar' ? 'cifar' : 'imagenet';
  const model = new ResNet18(rt, { numClasses: 4, width: s.width, stem, inChannels: 1 }, 0);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = rand(s.batch * s.size * s.size, 1, 1);
  const labels = Uint32Array.from({ length: s.batch }, (_, i) => i % 4);
  return async () => {
    await scope(() => trainStep(model, opt, {
      x: Tensor.fromArray(rt, x, [s.batch, 1, s.size, s.size], 'x'), labels: Tensor.fromArray(rt, labels, [s.batch], 'labels'),
    }));
  };
}
