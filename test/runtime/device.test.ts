import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pickListing, resolveChoice, type AdapterListing } from '../../src/kernels/device.js';
import { classifyAdapterName, classifyIcd, findIcdFiles } from '../../src/kernels/icd.js';
import { gpuRuntime } from '../helpers/gpu.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

/** Runs `wgml` from source in a fresh process, so Dawn sees a fresh environment. */
function wgml(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  // Our own VK_ICD_FILENAMES from this process would otherwise win over the simulated machine.
  if (!('VK_ICD_FILENAMES' in env)) {
    delete merged.VK_ICD_FILENAMES;
    delete merged.WGML_SET_VK_ICD;
  }
  return spawnSync(process.execPath, [...CLI, ...args], { env: merged, encoding: 'utf8', timeout: 90_000 });
}

const listing = (name: string, backend = 'vulkan'): AdapterListing => ({ name, backend, kind: classifyAdapterName(name) });
const SWIFT = listing('SwiftShader Device (Subzero)');
const LVP = listing('llvmpipe (LLVM 15.0.6, 256 bits)');
const H100 = listing('NVIDIA H100 80GB HBM3');

describe('adapter choice', () => {
  it('prefers a real GPU, then lavapipe, then SwiftShader', () => {
    expect(pickListing([SWIFT, LVP, H100], 'auto')).toBe(H100);
    expect(pickListing([SWIFT, LVP], 'auto')).toBe(LVP);
    expect(pickListing([SWIFT], 'auto')).toBe(SWIFT);
    expect(pickListing([], 'auto')).toBeUndefined();
  });

  it('honours a forced kind and refuses to substitute another', () => {
    expect(pickListing([SWIFT, LVP, H100], 'swiftshader')).toBe(SWIFT);
    expect(pickListing([SWIFT, LVP, H100], 'lavapipe')).toBe(LVP);
    expect(pickListing([SWIFT, LVP], 'gpu')).toBeUndefined();
  });

  it('prefers Vulkan among adapters of one kind', () => {
    const glGpu = listing('NVIDIA H100 80GB HBM3', 'opengl');
    expect(pickListing([glGpu, H100], 'auto')).toBe(H100);
  });

  it('reads --adapter, then WGML_ADAPTER, and rejects unknown names', () => {
    expect(resolveChoice(undefined, {})).toBe('auto');
    expect(resolveChoice(undefined, { WGML_ADAPTER: 'SwiftShader' })).toBe('swiftshader');
    expect(resolveChoice('lavapipe', { WGML_ADAPTER: 'swiftshader' })).toBe('lavapipe');
    expect(() => resolveChoice('cuda', {})).toThrow(/unknown adapter 'cuda': expected one of auto, gpu, lavapipe, swiftshader/);
  });

  it('classifies ICD manifests and adapter names', () => {
    expect(classifyIcd('/usr/lib/chromium/vk_swiftshader_icd.json')).toBe('swiftshader');
    expect(classifyIcd('/usr/share/vulkan/icd.d/lvp_icd.x86_64.json')).toBe('lavapipe');
    expect(classifyIcd('/usr/share/vulkan/icd.d/nvidia_icd.json')).toBe('gpu');
    expect(classifyAdapterName('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe('lavapipe');
    expect(findIcdFiles({ WGML_ICD_DIRS: '/nonexistent-dir' })).toEqual([]);
  });
});

describe('opening real adapters (fresh processes)', () => {
  it('opens SwiftShader when forced, and says so', () => {
    const r = wgml(['--adapter', 'swiftshader', 'info', '--probe-seconds', '0', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.adapter.kind).toBe('swiftshader');
    expect(info.adapter.architecture).toBe('swiftshader');
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 2 ** 20);
  });

  it('fails with what was tried and the install command when no Vulkan driver exists', () => {
    const r = wgml(['info', '--probe-seconds', '0'], { WGML_ICD_DIRS: '/nonexistent-wgml-icds', WGML_ADAPTER: undefined });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/No WebGPU adapter found/);
    expect(r.stderr).toMatch(/Vulkan ICD files: \(none found\)/);
    expect(r.stderr).toContain('sudo apt-get install -y libvulkan1 chromium-common');
  });

  it('fails clearly when a forced adapter is missing, naming the ones that exist', () => {
    const r = wgml(['--adapter', 'lavapipe', 'info', '--probe-seconds', '0'], {
      WGML_ICD_DIRS: '/usr/lib/chromium/vk_swiftshader_icd.json',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/No 'lavapipe' WebGPU adapter found/);
    expect(r.stderr).toContain('SwiftShader');
    expect(r.stderr).toContain('scripts/setup.sh --lavapipe');
  });

  const lavapipeIcd = findIcdFiles().find((f) => f.kind === 'lavapipe');
  // Mesa 22's lavapipe is present on bookworm but refused by Dawn; only 25.x counts.
  const mesa25 = existsSync('/usr/share/vulkan/icd.d/lvp_icd.json');
  it(`opens lavapipe when forced (${mesa25 ? `ICD ${lavapipeIcd?.path}` : 'Mesa 25 lavapipe not installed: expects the clear error instead'})`, () => {
    const r = wgml(['--adapter', 'lavapipe', 'info', '--probe-seconds', '0', '--json']);
    if (mesa25) {
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).adapter.kind).toBe('lavapipe');
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/No 'lavapipe' WebGPU adapter found/);
    }
  });
});

describe('GPU errors name the kernel', () => {
  it('turns a validation error into a thrown GpuError with the dispatch label', async () => {
    const rt = await gpuRuntime();
    const tiny = rt.allocF32(1, 'tiny');
    // The elementwise shader binds three buffers; omitting the output is a validation error.
    rt.dispatch({
      label: 'deliberately-broken-kernel',
      shader: 'elementwise.wgsl',
      entry: 'relu',
      params: new Uint32Array([1, 0, 0, 0]),
      bindings: [tiny],
      workgroups: [1],
    });
    await expect(rt.finish('test')).rejects.toThrow(/deliberately-broken-kernel/);
    rt.release(tiny);
  });
});
