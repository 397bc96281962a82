// A dataset on the GPU and the input pipeline without augmentation: the resident frames and
// masks (DatasetStore), batch gathering, and evaluation preprocessing (frame / 255, per-image
// z-score). Training's augmenter and evaluation, prediction and GradCAM share one of these, so
// the frames are uploaded once per dataset.
//
//   const data = new GpuDataset(rt, dataset);
//   const { x, labels } = data.preprocess(indices);   // x: [B,1,S,S] f32, owned by the caller
import type { Runtime } from '../kernels/runtime.js';
import type { PooledBuffer } from '../kernels/buffer_pool.js';
import { augmentShape, type AugmentShape } from '../kernels/tuning.js';
import type { ParamValues } from '../kernels/shader_layout.js';
import type { Dataset } from '../data/dataset.js';
import { identityParams, packBatch } from './augment_params.js';
import { DatasetStore, DEFAULT_CHUNK_BYTES } from './gpu_store.js';

export interface GpuDatasetOptions {
  /** Bytes per resident chunk (tests use small values to exercise chunking). */
  chunkBytes?: number;
}

export interface PreprocessOptions {
  /** Also return the mask [B,1,S,S] f32 (0/1; zeros for samples without a mask). */
  mask?: boolean;
  /** Per-image z-score (default true; false leaves x in [0,1], e.g. for pictures). */
  zscore?: boolean;
}

export interface PreprocessedBatch {
  /** [B,1,S,S] f32, owned by the caller (rt.release it, or wrap it in a scoped Tensor). */
  x: PooledBuffer;
  mask?: PooledBuffer;
  labels: Int32Array;
}

/** Workgroup size of the per-image kernels of augment.wgsl and augment_blur.wgsl. */
export const AUGMENT_WG = 128;
const ZSCORE_WG = 64;

export { augmentShape, type AugmentShape };

/** The uniform of augment.wgsl: batch size, mask output flag, Feistel half width, bokeh factor. */
export function augmentUniform(B: number, outMask: boolean, halfBits = 0, bokehFactor = 0): ParamValues {
  return { batch: B, out_mask: outMask ? 1 : 0, half_bits: halfBits, bokeh: bokehFactor };
}

export class GpuDataset {
  readonly size: number;
  readonly count: number;
  readonly store: DatasetStore;
  /** Column launch shape (one invocation per image column) instead of one per pixel. */
  readonly columns: boolean;
  private disposed = false;

  constructor(readonly rt: Runtime, readonly dataset: Dataset, opts: GpuDatasetOptions = {}) {
    this.size = dataset.size;
    this.count = dataset.samples.length;
    this.store = new DatasetStore(
      rt,
      { size: this.size, frames: dataset.frames, masks: dataset.masks, hasMask: (i) => this.hasMask(i) },
      opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    );
    this.columns = augmentShape(rt.gpu.info.kind) === 'column';
  }

  /** Whether sample i has a sector mask. */
  hasMask(i: number): boolean {
    return this.dataset.masks !== null && this.dataset.samples[i]!.mask;
  }

  /** GPU bytes of the resident frames and masks. */
  get residentBytes(): number {
    return this.store.bytes;
  }

  /** Throws unless `indices` is a non-empty batch of valid sample indices that fits one dispatch grid. */
  checkIndices(indices: readonly number[], what = 'augment'): void {
    if (this.disposed) throw new Error(`${what}: dataset used after dispose()`);
    if (indices.length === 0) throw new RangeError(`${what}: empty batch`);
    const maxDim = this.rt.device.limits.maxComputeWorkgroupsPerDimension;
    if (indices.length > maxDim || Math.ceil((indices.length * this.size) / ZSCORE_WG) > maxDim) {
      throw new RangeError(`${what}: batch of ${indices.length} at ${this.size}×${this.size} exceeds the ${maxDim}-workgroup grid limit`);
    }
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`${what}: sample index ${i} outside 0..${this.count - 1}`);
    }
  }

  labelsOf(indices: readonly number[]): Int32Array {
    return Int32Array.from(indices, (i) => this.dataset.samples[i]!.label);
  }

  /** Workgroups of a per-image augment.wgsl kernel over B images. */
  grid(B: number): [number, number] {
    const S = this.size;
    return this.columns ? [Math.ceil((B * S) / AUGMENT_WG), 1] : [Math.ceil((S * S) / AUGMENT_WG), B];
  }

  /** In place: each of the B images of x becomes (x − mean) / std over its own pixels. */
  zscore(x: PooledBuffer, B: number): void {
    const rt = this.rt;
    const S = this.size;
    const part = rt.allocF32(B * S * 4, 'augment.zscore.part');
    const stat = rt.allocF32(B * 4, 'augment.zscore.stat');
    const params = { batch: B };
    const pass = (entry: string, bindings: Record<string, PooledBuffer>, workgroups: [number, number?]) =>
      rt.dispatch({ label: `augment.zscore.${entry}`, shader: 'augment_zscore.wgsl', entry, constants: { S, WG: ZSCORE_WG }, params, bindings, workgroups });
    pass('col_stats', { x, part }, [Math.ceil((B * S) / ZSCORE_WG)]);
    pass('image_stats', { part, stat }, [Math.ceil(B / ZSCORE_WG)]);
    pass('normalize', { x, stat }, [Math.ceil((B * S) / ZSCORE_WG)]);
    rt.release(part);
    rt.release(stat);
  }

  /** Evaluation input: x = z-score(frame / 255), no augmentation. */
  preprocess(indices: readonly number[], o: PreprocessOptions = {}): PreprocessedBatch {
    this.checkIndices(indices, 'preprocess');
    const rt = this.rt;
    const S = this.size;
    const B = indices.length;
    const packed = packBatch({ samples: indices.map(identityParams) }, S, (i) => this.hasMask(i));
    // The preprocess entry reads only each sample's header; the warp rows and LUT ride along unused.
    const sdata = rt.upload(packed.data, 'augment.sdata');
    const { frames, masks } = this.store.gather(packed.slots);
    const x = rt.allocF32(B * S * S, 'preprocess.x');
    const wantMask = o.mask ?? false;
    const mask = wantMask ? rt.allocF32(B * S * S, 'preprocess.mask') : rt.allocF32(1, 'preprocess.mask-unused');
    rt.dispatch({
      label: 'augment.preprocess',
      shader: 'augment.wgsl',
      entry: this.columns ? 'preprocess_cols' : 'preprocess',
      constants: { S, WG: AUGMENT_WG },
      params: augmentUniform(B, wantMask),
      bindings: { frames, masks, sdata, x, mask_out: mask },
      workgroups: this.grid(B),
    });
    if (o.zscore ?? true) this.zscore(x, B);
    for (const b of [frames, masks, sdata]) rt.release(b);
    if (!wantMask) rt.release(mask);
    const out: PreprocessedBatch = { x, labels: this.labelsOf(indices) };
    if (wantMask) out.mask = mask;
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.store.dispose();
  }
}
