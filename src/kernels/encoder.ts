// Batched command encoding: dispatches accumulate in one compute pass and go to the queue on
// flush(), because a lone submit+wait costs 0.1–0.3 ms on software GPUs while a dispatch in a
// batch costs tens of µs. Readback is the only place that waits.
import type { Gpu } from './device.js';
import { GpuError } from './device.js';
import type { BufferPool, PooledBuffer } from './buffer_pool.js';
import type { Constants, PipelineCache } from './pipelines.js';
import { packParams, parseShaderLayout, type ParamValues, type ShaderLayout } from './shader_layout.js';
import type { DispatchProfiler } from './dispatch_profiler.js';

export type BufferLike = GPUBuffer | PooledBuffer;

export function rawBuffer(b: BufferLike): GPUBuffer {
  return 'buffer' in b ? b.buffer : b;
}

export interface DispatchSpec {
  /** Names the op in error messages and GPU labels. */
  label: string;
  shader: string;
  entry?: string;
  constants?: Constants;
  /** Values for `// @specialize` consts (register-tile sizes). */
  defines?: Constants;
  /**
   * The uniform at @binding(0): its field values by the names of the shader's struct (packed
   * from the WGSL declaration), or raw bytes.
   */
  params?: ParamValues | ArrayBufferView | ArrayBuffer;
  /**
   * Storage buffers by the shader's variable names (the entry point's, no more: layout 'auto'
   * omits unused bindings), or in binding order (from 1 with params, from 0 without) with
   * `null` skipping a binding number.
   */
  bindings: Record<string, BufferLike> | (BufferLike | null)[];
  workgroups: [number, number?, number?];
}

export class Encoder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatchesInBatch = 0;
  private readonly sync: boolean;
  private readonly scopes: Promise<string | null>[] = [];
  private readonly layouts = new Map<string, ShaderLayout>();
  /** Submit automatically after this many dispatches so pending pool buffers get recycled. */
  autoFlushEvery = 128;
  dispatchCount = 0;
  /** When set, every dispatch gets its own timestamped pass (bench/step_profile.ts). */
  profiler: DispatchProfiler | null = null;

  constructor(
    private readonly gpu: Gpu,
    private readonly pool: BufferPool,
    private readonly pipelines: PipelineCache,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.sync = env.WGML_SYNC === '1';
  }

  /** True when nothing is encoded but unsubmitted, so released buffers can be reused at once. */
  get idle(): boolean {
    return this.encoder === null;
  }

  private get device(): GPUDevice {
    return this.gpu.device;
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'wgml-batch' });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass({ label: 'wgml-pass' });
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private layout(file: string): ShaderLayout {
    let l = this.layouts.get(file);
    if (!l) {
      l = parseShaderLayout(this.pipelines.source(file), file);
      this.layouts.set(file, l);
    }
    return l;
  }

  dispatch(spec: DispatchSpec): void {
    const [x, y = 1, z = 1] = spec.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new GpuError(`${spec.label}: grid ${x}×${y}×${z} exceeds ${max} workgroups per dimension`);
    }
    if (this.sync) this.device.pushErrorScope('validation');
    const pipeline = this.pipelines.get(spec.shader, spec.entry ?? 'main', spec.constants ?? {}, spec.defines ?? {});
    const entries: GPUBindGroupEntry[] = [];
    let uniform: PooledBuffer | null = null;
    if (spec.params) {
      const p = spec.params;
      const bytes = p instanceof ArrayBuffer
        ? new Uint8Array(p)
        : ArrayBuffer.isView(p)
          ? new Uint8Array(p.buffer, p.byteOffset, p.byteLength)
          : new Uint8Array(packParams(this.layout(spec.shader), p, spec.label));
      uniform = this.pool.acquire(Math.max(16, bytes.byteLength), 'uniform', `${spec.label}.params`);
      const padded = bytes.byteLength % 4 === 0 ? bytes : Uint8Array.from({ length: Math.ceil(bytes.byteLength / 4) * 4 }, (_, i) => bytes[i] ?? 0);
      this.device.queue.writeBuffer(uniform.buffer, 0, padded);
      entries.push({ binding: 0, resource: { buffer: uniform.buffer, size: uniform.bytes } });
    }
    const bind = (binding: number, b: BufferLike) => {
      const buffer = rawBuffer(b);
      const size = 'bytes' in b ? (b as PooledBuffer).bytes : buffer.size;
      entries.push({ binding, resource: { buffer, size: Math.ceil(size / 4) * 4 } });
    };
    if (Array.isArray(spec.bindings)) {
      const base = entries.length;
      spec.bindings.forEach((b, i) => {
        if (b !== null) bind(base + i, b);
      });
    } else {
      const numbers = this.layout(spec.shader).bindings;
      const taken = new Set<number>();
      for (const [name, b] of Object.entries(spec.bindings)) {
        const n = numbers.get(name);
        if (n === undefined || n === 0) throw new GpuError(`${spec.label}: ${spec.shader} has no storage binding named '${name}'`);
        if (taken.has(n)) throw new GpuError(`${spec.label}: two buffers for @binding(${n}) of ${spec.shader}`);
        taken.add(n);
        bind(n, b);
      }
    }
    const bindGroup = this.device.createBindGroup({ label: spec.label, layout: pipeline.getBindGroupLayout(0), entries });
    if (this.profiler) {
      this.endPass();
      if (this.profiler.full) this.flush();
      this.pass = this.commandEncoder().beginComputePass(this.profiler.passFor(spec.label));
    }
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    if (uniform) this.pool.release(uniform);
    this.dispatchCount++;
    this.dispatchesInBatch++;
    if (this.sync) {
      this.flush();
      const label = spec.label;
      this.scopes.push(this.device.popErrorScope().then((e) => (e ? `${label}: ${e.message}` : null)));
    } else if (this.dispatchesInBatch >= this.autoFlushEvery) {
      this.flush();
    }
  }

  copy(src: BufferLike, srcOffset: number, dst: BufferLike, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(rawBuffer(src), srcOffset, rawBuffer(dst), dstOffset, bytes);
  }

  /** Writes host data into a buffer, ordered after everything encoded so far. */
  write(dst: BufferLike, data: ArrayBufferView, dstOffset = 0): void {
    // queue.writeBuffer runs before the next submit, so commands already encoded that read
    // the old contents must be submitted first.
    if (this.encoder) this.flush();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.device.queue.writeBuffer(rawBuffer(dst), dstOffset, bytes);
  }

  /** Submits everything encoded so far; pooled buffers released before this become reusable. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      this.profiler?.resolve(this.encoder);
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
    }
    this.dispatchesInBatch = 0;
    this.pool.afterSubmit();
  }

  /** Flushes, waits for the GPU, and throws the first GPU error (naming its kernel). */
  async finish(context = 'GPU work'): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwScopedErrors();
    this.gpu.checkErrors(context);
  }

  private async throwScopedErrors(): Promise<void> {
    if (this.scopes.length === 0) return;
    const results = await Promise.all(this.scopes.splice(0));
    const first = results.find((r) => r !== null);
    if (first) throw new GpuError(`GPU validation error in kernel ${first}`);
  }

  /** Copies `bytes` from `src` to the host: the one place a step waits for the GPU. */
  async read(src: BufferLike, bytes?: number, srcOffset = 0, label = 'readback'): Promise<ArrayBuffer> {
    const n = bytes ?? ('bytes' in src ? (src as PooledBuffer).bytes : rawBuffer(src).size) - srcOffset;
    const staging = this.pool.acquire(Math.ceil(n / 4) * 4, 'readback', label);
    this.copy(src, srcOffset, staging, 0, Math.ceil(n / 4) * 4);
    this.flush();
    try {
      await staging.buffer.mapAsync(GPUMapMode.READ, 0, Math.ceil(n / 4) * 4);
    } catch (e) {
      await this.throwScopedErrors();
      this.gpu.checkErrors(label);
      throw e;
    }
    const out = staging.buffer.getMappedRange(0, Math.ceil(n / 4) * 4).slice(0, n);
    staging.buffer.unmap();
    this.pool.release(staging);
    this.pool.afterSubmit();
    await this.throwScopedErrors();
    this.gpu.checkErrors(label);
    return out;
  }
}
