// Training checkpoints. `<name>.safetensors` holds only the model (torchvision keys, opens in
// PyTorch); `<name>.state.safetensors` holds the optimizer moments and, in its metadata, the
// epoch, Adam step, RNG states, best accuracy and config. Both are written atomically, state
// first; the epoch in both must agree on resume, so a crash between the two is detected.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResNet18 } from '../nn/resnet18.js';
import type { Adam } from '../nn/adam.js';
import { saveModel, importStateDict } from '../nn/state_dict.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../nn/safetensors.js';
import type { TrainConfig } from './config.js';

export interface TrainingState {
  epoch: number;
  adamStep: number;
  /** Best checkpoint score: validation accuracy, averaged over the last `valWindow` epochs. */
  bestValAcc: number;
  bestEpoch: number;
  /** Validation accuracies of the last valWindow − 1 … epochs (absent in older checkpoints). */
  valHistory?: number[];
  rng: unknown;
  config: TrainConfig;
  classes: string[];
}

export function checkpointPaths(dir: string, name: string): { model: string; state: string } {
  return { model: join(dir, `${name}.safetensors`), state: join(dir, `${name}.state.safetensors`) };
}

export async function saveCheckpoint(dir: string, name: string, model: ResNet18, opt: Adam, state: TrainingState): Promise<void> {
  const paths = checkpointPaths(dir, name);
  const tensors: Record<string, TensorToWrite> = {};
  const named = model.namedTensors().filter((n) => n.kind === 'parameter');
  for (let i = 0; i < named.length; i++) {
    tensors[`exp_avg.${named[i]!.name}`] = { dtype: 'F32', shape: [...opt.m[i]!.shape], data: await opt.m[i]!.toArray() };
    tensors[`exp_avg_sq.${named[i]!.name}`] = { dtype: 'F32', shape: [...opt.v[i]!.shape], data: await opt.v[i]!.toArray() };
  }
  await writeSafetensors(paths.state, tensors, { 'wgml.training_state': JSON.stringify(state) });
  // the input size travels with the model, so eval/predict/gradcam preprocess as training did
  await saveModel(paths.model, model, { 'wgml.epoch': String(state.epoch), 'wgml.image_size': String(state.config.imageSize) }, state.classes);
}

export async function loadCheckpoint(dir: string, name: string, model: ResNet18, opt: Adam): Promise<TrainingState> {
  const paths = checkpointPaths(dir, name);
  for (const p of [paths.model, paths.state]) {
    if (!existsSync(p)) throw new Error(`cannot resume: ${p} does not exist`);
  }
  const st = await readSafetensors(paths.state);
  const raw = st.metadata?.['wgml.training_state'];
  if (!raw) throw new Error(`${paths.state}: no 'wgml.training_state' metadata`);
  const state = JSON.parse(raw) as TrainingState;
  const m = await readSafetensors(paths.model);
  if (m.metadata?.['wgml.epoch'] !== String(state.epoch)) {
    throw new Error(`${paths.model} (epoch ${m.metadata?.['wgml.epoch']}) and ${paths.state} (epoch ${state.epoch}) disagree: the run was interrupted while saving; resume from best or start again`);
  }
  importStateDict(model, m.tensors, paths.model);
  const named = model.namedTensors().filter((n) => n.kind === 'parameter');
  named.forEach((n, i) => {
    for (const [prefix, t] of [['exp_avg', opt.m[i]!], ['exp_avg_sq', opt.v[i]!]] as const) {
      const saved = st.tensors[`${prefix}.${n.name}`];
      if (!saved || saved.dtype !== 'F32' || saved.data.length !== t.size) {
        throw new Error(`${paths.state}: optimizer tensor ${prefix}.${n.name} is missing or has the wrong size`);
      }
      t.rt.encoder.write(t.buffer, saved.data);
    }
  });
  opt.step = state.adamStep;
  return state;
}
