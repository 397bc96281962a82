// Model ↔ torchvision-style state dict ↔ safetensors. GPU tensors are read back once per save
// and written with queue writes on load; names and layouts are torchvision's, so files open in
// PyTorch and torchvision checkpoints open here.
import type { Module } from './module.js';
import { ResNet18, type ResNet18Config } from './resnet18.js';
import type { Runtime } from '../kernels/runtime.js';
import { readSafetensors, writeSafetensors, type LoadedTensor, type TensorToWrite } from './safetensors.js';
import { assertStateDict, inferConfigFromShapes, shapesOf } from './state_dict_names.js';
import { shapeStr } from './tensor.js';

export async function exportStateDict(model: Module): Promise<Record<string, TensorToWrite>> {
  const out: Record<string, TensorToWrite> = {};
  for (const { name, tensor } of model.namedTensors()) {
    out[name] = { dtype: 'F32', shape: [...tensor.shape], data: await tensor.toArray() };
  }
  for (const c of model.namedCounters()) {
    out[c.name] = { dtype: 'I64', shape: [], data: BigInt64Array.of(c.get()) };
  }
  return out;
}

/** Copies a state dict into the model. Every key must match by name and shape. */
export function importStateDict(model: Module, tensors: Record<string, LoadedTensor>, source = 'state dict'): void {
  const named = model.namedTensors();
  const counters = model.namedCounters();
  const expected = new Set([...named.map((n) => n.name), ...counters.map((c) => c.name)]);
  const missing = [...expected].filter((k) => !(k in tensors));
  const unexpected = Object.keys(tensors).filter((k) => !expected.has(k));
  if (missing.length || unexpected.length) {
    const parts = [];
    if (missing.length) parts.push(`missing keys: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` … and ${missing.length - 20} more` : ''}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.slice(0, 20).join(', ')}${unexpected.length > 20 ? ` … and ${unexpected.length - 20} more` : ''}`);
    throw new Error(`${source}: does not match the model (${parts.join('; ')})`);
  }
  for (const { name, tensor } of named) {
    const t = tensors[name]!;
    if (t.dtype !== 'F32') throw new Error(`${source}: ${name} has dtype ${t.dtype}, expected a float type`);
    if (t.shape.join(',') !== tensor.shape.join(',')) {
      throw new Error(`${source}: ${name} has shape ${shapeStr(t.shape)}, the model expects ${shapeStr(tensor.shape)}`);
    }
    tensor.rt.encoder.write(tensor.buffer, t.data);
  }
  for (const c of counters) {
    const t = tensors[c.name]!;
    if (t.dtype === 'I64') c.set(t.data[0] ?? 0n);
    else c.set(BigInt(Math.round(Number(t.data[0] ?? 0))));
  }
}

export interface ModelFileMetadata {
  config: ResNet18Config;
  classes?: string[];
  [key: string]: unknown;
}

/** Writes the model as safetensors (atomically) with its config and class names in `__metadata__`. */
export async function saveModel(path: string, model: ResNet18, extra: Record<string, string> = {}, classes?: string[]): Promise<void> {
  const metadata: Record<string, string> = {
    format: 'pt',
    'wgml.arch': 'resnet18',
    'wgml.config': JSON.stringify(model.config),
    ...(classes ? { 'wgml.classes': JSON.stringify(classes) } : {}),
    ...extra,
  };
  await writeSafetensors(path, await exportStateDict(model), metadata);
}

export interface LoadedModel {
  model: ResNet18;
  config: ResNet18Config;
  classes: string[] | null;
  metadata: Record<string, string>;
}

/**
 * Loads any torchvision-style ResNet18 safetensors: the architecture comes from wgml metadata
 * or, when absent (e.g. a file exported from PyTorch), from the tensor shapes.
 */
export async function loadModelFile(rt: Runtime, path: string): Promise<LoadedModel> {
  const { tensors, metadata = {} } = await readSafetensors(path);
  const shapes = shapesOf(Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape })));
  let config: ResNet18Config;
  if (metadata['wgml.config']) {
    try {
      config = JSON.parse(metadata['wgml.config']) as ResNet18Config;
    } catch {
      throw new Error(`${path}: metadata 'wgml.config' is not valid JSON`);
    }
    assertStateDict({ ...config, inChannels: config.inChannels as 1 | 3 }, shapes, path);
  } else {
    const inferred = inferConfigFromShapes(shapes, path);
    config = { stem: inferred.stem, inChannels: inferred.inChannels, numClasses: inferred.numClasses, width: inferred.width };
  }
  let classes: string[] | null = null;
  if (metadata['wgml.classes']) classes = JSON.parse(metadata['wgml.classes']) as string[];
  const model = new ResNet18(rt, config);
  importStateDict(model, tensors, path);
  return { model, config, classes, metadata };
}
