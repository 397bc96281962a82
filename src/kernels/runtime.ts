// The handle every kernel launcher takes: device, buffer pool, pipeline cache and encoder.
import { openGpu, type DeviceOptions, type Gpu } from './device.js';
import { BufferPool, type PooledBuffer } from './buffer_pool.js';
import { PipelineCache } from './pipelines.js';
import { Encoder, type BufferLike, type DispatchSpec } from './encoder.js';

export class Runtime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly encoder: Encoder;

  constructor(readonly gpu: Gpu, env: NodeJS.ProcessEnv = process.env) {
    this.pool = new BufferPool(gpu.device);
    this.pipelines = new PipelineCache(gpu.device);
    this.encoder = new Encoder(gpu, this.pool, this.pipelines, env);
  }

  static async create(opts: DeviceOptions = {}): Promise<Runtime> {
    return new Runtime(await openGpu(opts), opts.env);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  alloc(bytes: number, label = 'tensor'): PooledBuffer {
    return this.pool.acquire(bytes, 'storage', label);
  }

  allocF32(count: number, label = 'tensor'): PooledBuffer {
    return this.pool.acquire(Math.max(1, count) * 4, 'storage', label);
  }

  release(b: PooledBuffer): void {
    this.pool.release(b, this.encoder.idle);
  }

  /** A new pooled storage buffer holding `data`. */
  upload(data: Float32Array | Int32Array | Uint32Array, label = 'upload'): PooledBuffer {
    const b = this.pool.acquire(Math.max(4, data.byteLength), 'storage', label);
    this.encoder.write(b, data);
    return b;
  }

  dispatch(spec: DispatchSpec): void {
    this.encoder.dispatch(spec);
  }

  flush(): void {
    this.encoder.flush();
  }

  /**
   * Runs one iteration of a loop whose iterations allocate the same buffers in the same order
   * (a training step): once two consecutive iterations have allocated alike, the pool hands
   * later ones storage buffers packed for the whole iteration, about 0.7× the bytes of its
   * per-size free lists at batch 64 (buffer_pool.ts, step_plan.ts). Results do not depend on it.
   */
  async step<T>(fn: () => Promise<T>): Promise<T> {
    this.pool.beginStep();
    let completed = false;
    try {
      const result = await fn();
      completed = true;
      return result;
    } finally {
      // The plan may destroy buffers the step used: their commands must be submitted first.
      this.encoder.flush();
      this.pool.endStep(completed);
    }
  }

  async readF32(src: BufferLike, count?: number, label?: string): Promise<Float32Array> {
    const bytes = count !== undefined ? count * 4 : undefined;
    return new Float32Array(await this.encoder.read(src, bytes, 0, label));
  }

  async readU32(src: BufferLike, count?: number, label?: string): Promise<Uint32Array> {
    const bytes = count !== undefined ? count * 4 : undefined;
    return new Uint32Array(await this.encoder.read(src, bytes, 0, label));
  }

  async finish(context?: string): Promise<void> {
    await this.encoder.finish(context);
  }

  destroy(): void {
    this.encoder.flush();
    this.gpu.destroy();
  }
}
