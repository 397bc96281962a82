// GPU time per dispatch, from timestamp queries: each profiled dispatch runs in its own compute
// pass whose start and end the device stamps. Used by bench/step_profile.ts to show where a
// training step's time goes; a pass per dispatch costs a little, so the step runs slower while
// profiled and only the shares are meant to be read.
export interface KernelTime {
  /** Summed GPU milliseconds of every dispatch with this label. */
  ms: number;
  count: number;
}

interface Pending {
  resolved: GPUBuffer;
  read: GPUBuffer;
  labels: string[];
}

export class DispatchProfiler {
  private readonly querySet: GPUQuerySet;
  private labels: string[] = [];
  private readonly pending: Pending[] = [];

  /** `capacity`: dispatches between two flushes of the encoder (two queries each). */
  constructor(private readonly device: GPUDevice, readonly capacity = 1024) {
    if (!device.features.has('timestamp-query')) {
      throw new Error('dispatch profiling needs the timestamp-query feature, which this device lacks');
    }
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity, label: 'wgml-profile' });
  }

  get full(): boolean {
    return this.labels.length >= this.capacity;
  }

  /** The descriptor of the next dispatch's own pass. */
  passFor(label: string): GPUComputePassDescriptor {
    const i = this.labels.length;
    this.labels.push(label);
    return {
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    };
  }

  /** Copies the stamps of the dispatches encoded since the last call out of the query set. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (n === 0) return;
    const bytes = 16 * n;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'wgml-profile.resolve' });
    const read = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'wgml-profile.read' });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, read, 0, bytes);
    this.pending.push({ resolved, read, labels: this.labels });
    this.labels = [];
  }

  /** Times by label of everything resolved so far (call after the work is finished). */
  async collect(): Promise<Map<string, KernelTime>> {
    const out = new Map<string, KernelTime>();
    for (const p of this.pending.splice(0)) {
      await p.read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(p.read.getMappedRange().slice(0));
      p.read.unmap();
      p.read.destroy();
      p.resolved.destroy();
      p.labels.forEach((label, i) => {
        const ns = Number(t[2 * i + 1]! - t[2 * i]!);
        const k = out.get(label) ?? { ms: 0, count: 0 };
        k.ms += Math.max(0, ns) / 1e6;
        k.count += 1;
        out.set(label, k);
      });
    }
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
  }
}
