// One way to get a WebGPU device in Node through Dawn: a real GPU first, then Mesa's lavapipe,
// then SwiftShader. Software drivers outside the Vulkan loader's default path are found by
// building VK_ICD_FILENAMES ourselves before Dawn creates its instance.
import { create, globals } from 'webgpu';
import { findIcdFiles, classifyAdapterName, INSTALL_HINT, type AdapterKind } from './icd.js';

export type AdapterChoice = 'auto' | AdapterKind;
export const ADAPTER_CHOICES: AdapterChoice[] = ['auto', 'gpu', 'lavapipe', 'swiftshader'];
const PREFERENCE: AdapterKind[] = ['gpu', 'lavapipe', 'swiftshader'];

export interface AdapterListing {
  backend: string;
  name: string;
  kind: AdapterKind;
}

export interface GpuInfo {
  kind: AdapterKind;
  backend: string;
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  /**
   * Lanes per subgroup when the device has the subgroups feature and a fixed subgroup size
   * (lavapipe 8, SwiftShader 4); null otherwise. Kernels that share loads across a subgroup
   * (conv2d_backward_weight_subgroup.wgsl) are specialised on it.
   */
  subgroupSize: number | null;
  icdFiles: string[];
}

function fixedSubgroupSize(device: GPUDevice, info: GPUAdapterInfo): number | null {
  if (!device.features.has('subgroups')) return null;
  const lo = info.subgroupMinSize;
  const hi = info.subgroupMaxSize;
  return typeof lo === 'number' && lo === hi && lo >= 1 ? lo : null;
}

export class GpuError extends Error {
  override name = 'GpuError';
}

/** A device plus the error bookkeeping that turns Dawn's asynchronous errors into thrown ones. */
export class Gpu {
  readonly device: GPUDevice;
  readonly info: GpuInfo;
  private readonly errors: string[] = [];
  private lostReason: string | null = null;
  private destroyed = false;
  private readonly onExit = () => this.destroy();
  /** Dawn's instance: its event loop delivers mapAsync/onSubmittedWorkDone, so it must outlive the device. */
  private instance: GPU | null;

  constructor(instance: GPU, device: GPUDevice, info: GpuInfo) {
    this.instance = instance;
    this.device = device;
    this.info = info;
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.errors.push(ev.error.message);
    };
    void device.lost.then((lost) => {
      if (!this.destroyed) this.lostReason = `${lost.reason}: ${lost.message}`;
    });
    // Dawn keeps the process alive while a device exists; destroying it on exit avoids the hang.
    process.once('exit', this.onExit);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Throws the first uncaptured error (Dawn's message names the labelled pipeline, buffer or
   * pass, i.e. the kernel) or a device loss. `context` says what wgml was doing.
   */
  checkErrors(context = ''): void {
    if (this.lostReason) {
      throw new GpuError(`GPU device lost${context ? ` during ${context}` : ''}: ${this.lostReason}`);
    }
    if (this.errors.length > 0) {
      const all = this.errors.splice(0);
      const more = all.length > 1 ? `\n(and ${all.length - 1} more GPU errors)` : '';
      throw new GpuError(`GPU error${context ? ` in ${context}` : ''}: ${all[0]}${more}`);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.onExit);
    this.device.destroy();
    this.instance = null;
  }
}

let globalsInstalled = false;
function installGlobals(): void {
  // Dawn's GPU* classes (GPUBufferUsage, GPUMapMode, …) are what WGSL host code expects as globals.
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
}

/** Resolves the adapter choice from an explicit option, then WGML_ADAPTER, then 'auto'. */
export function resolveChoice(explicit?: string, env: NodeJS.ProcessEnv = process.env): AdapterChoice {
  const raw = (explicit ?? env.WGML_ADAPTER ?? 'auto').toLowerCase();
  if (!(ADAPTER_CHOICES as string[]).includes(raw)) {
    throw new GpuError(`unknown adapter '${raw}': expected one of ${ADAPTER_CHOICES.join(', ')}`);
  }
  return raw as AdapterChoice;
}

/**
 * Points the Vulkan loader at every ICD we know of, unless the user set VK_ICD_FILENAMES
 * (then theirs wins). Returns the ICD files in effect.
 */
function configureVulkanLoader(env: NodeJS.ProcessEnv): string[] {
  if (process.platform !== 'linux') return [];
  env.XDG_RUNTIME_DIR ??= '/tmp';
  if (env.VK_ICD_FILENAMES && env.WGML_SET_VK_ICD !== env.VK_ICD_FILENAMES) {
    return env.VK_ICD_FILENAMES.split(':').filter(Boolean);
  }
  const icds = findIcdFiles(env).map((f) => f.path);
  // An empty VK_ICD_FILENAMES means "use the defaults" to the loader; a missing file means none.
  const value = icds.length > 0 ? icds.join(':') : '/nonexistent/wgml-no-vulkan-driver.json';
  env.VK_ICD_FILENAMES = value;
  env.WGML_SET_VK_ICD = value;
  return icds;
}

/**
 * Asks Dawn which adapters it can open (Dawn lists them when asked for one it lacks).
 *
 * With lavapipe installed, each Dawn instance that discovers it prints two lines to stderr,
 * "Warning: maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced from
 * 1000000 to 16 …" — four a command: two from this listing, two from the instance openGpu
 * opens. Dawn prints them while it builds the adapter (PhysicalDeviceBase::Initialize →
 * NormalizeLimits clamps lavapipe's reported 1,000,000 to its internal 16 with an unconditional
 * fprintf), before any requestDevice, so no requiredLimits can prevent them. They are harmless:
 * wgml uses no dynamic offsets. See docs/DECISIONS.md, "Dawn's dynamic-buffer warnings stay".
 */
export async function listAdapters(env: NodeJS.ProcessEnv = process.env): Promise<AdapterListing[]> {
  installGlobals();
  configureVulkanLoader(env);
  const probe = create(['adapter=\u0001wgml-list-adapters']);
  let message = '';
  try {
    const adapter = await probe.requestAdapter();
    if (adapter) return [];
  } catch (e) {
    message = (e as Error).message;
  }
  const listings: AdapterListing[] = [];
  for (const m of message.matchAll(/backend: '([^']+)', name: '([^']+)'/g)) {
    const [, backend, name] = m;
    if (backend === 'null') continue;
    listings.push({ backend: backend!, name: name!, kind: classifyAdapterName(name!) });
  }
  return listings;
}

export function pickListing(listings: AdapterListing[], choice: AdapterChoice): AdapterListing | undefined {
  const order = choice === 'auto' ? PREFERENCE : [choice];
  for (const kind of order) {
    // Within a kind prefer Vulkan: it is the backend wgml's kernels are tuned and tested on.
    const ofKind = listings.filter((l) => l.kind === kind);
    const pick = ofKind.find((l) => l.backend === 'vulkan') ?? ofKind[0];
    if (pick) return pick;
  }
  return undefined;
}

function noAdapterMessage(choice: AdapterChoice, listings: AdapterListing[], icds: string[]): string {
  const lines = [
    choice === 'auto' ? 'No WebGPU adapter found.' : `No '${choice}' WebGPU adapter found.`,
    `Tried: Dawn's backends with Vulkan ICD files: ${icds.length ? icds.join(', ') : '(none found)'}.`,
    `Adapters Dawn could open: ${listings.length ? listings.map((l) => `${l.name} [${l.backend}, ${l.kind}]`).join('; ') : '(none)'}.`,
  ];
  if (choice === 'auto' || choice === 'swiftshader') {
    lines.push(`Install a software GPU with:\n  ${INSTALL_HINT}`);
  } else if (choice === 'lavapipe') {
    lines.push('Install Mesa 25 lavapipe with: scripts/setup.sh --lavapipe (bookworm\'s own Mesa 22 is refused by Dawn).');
  } else {
    lines.push('A real GPU needs its vendor\'s Vulkan driver (e.g. NVIDIA\'s ICD); use --adapter auto to fall back to a software GPU.');
  }
  return lines.join('\n');
}

export interface DeviceOptions {
  adapter?: string;
  env?: NodeJS.ProcessEnv;
}

/** Opens the preferred (or forced) adapter and a device with the adapter's own limits. */
export async function openGpu(opts: DeviceOptions = {}): Promise<Gpu> {
  const env = opts.env ?? process.env;
  const choice = resolveChoice(opts.adapter, env);
  installGlobals();
  const icds = configureVulkanLoader(env);
  const listings = await listAdapters(env);
  const pick = pickListing(listings, choice);
  if (!pick) throw new GpuError(noAdapterMessage(choice, listings, icds));

  const instance = create([`backend=${pick.backend}`, `adapter=${pick.name}`]);
  const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuError(`Dawn listed adapter '${pick.name}' but would not open it.`);

  // The WebGPU defaults (e.g. 128 MiB storage bindings) are far below what a GPU offers.
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const key in limits) {
    const v = limits[key];
    if (typeof v === 'number') requiredLimits[key] = v;
  }
  const wanted: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: `wgml:${pick.kind}` });
  const info = adapter.info;
  return new Gpu(instance, device, {
    kind: pick.kind,
    backend: pick.backend,
    name: pick.name,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    features: [...device.features].sort(),
    subgroupSize: fixedSubgroupSize(device, info),
    icdFiles: icds,
  });
}
