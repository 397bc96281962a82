// `wgml info`: what adapter wgml would use, its limits, and how fast it multiplies matrices.
import type { Command } from 'commander';
import { Runtime } from '../kernels/runtime.js';
import { matmulProbe } from '../kernels/probe.js';
import { globalOptions } from './options.js';

const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface InfoReport {
  adapter: Runtime['gpu']['info'];
  limits: Record<string, number>;
  probe: { size: number; iterations: number; seconds: number; gflops: number } | null;
}

export async function collectInfo(adapter: string | undefined, probeSeconds: number): Promise<InfoReport> {
  const rt = await Runtime.create({ adapter });
  try {
    const limits: Record<string, number> = {};
    for (const k of KEY_LIMITS) limits[k] = (rt.device.limits as unknown as Record<string, number>)[k]!;
    const probe = probeSeconds > 0 ? await matmulProbe(rt, probeSeconds) : null;
    return { adapter: rt.gpu.info, limits, probe };
  } finally {
    rt.destroy();
  }
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatInfo(r: InfoReport): string {
  const a = r.adapter;
  const lines = [
    `adapter      ${a.name} (${a.kind})`,
    `backend      ${a.backend}`,
    `vendor       ${a.vendor || '-'}  architecture ${a.architecture || '-'}  device ${a.device || '-'}`,
    `description  ${a.description || '-'}`,
    `fallback     ${a.isFallbackAdapter ? 'yes (software)' : 'no'}`,
    `features     ${a.features.join(', ') || '-'}`,
    'limits',
    ...Object.entries(r.limits).map(([k, v]) => `  ${k.padEnd(36)} ${k.includes('Size') && v > 65536 ? formatBytes(v) : v}`),
  ];
  if (a.icdFiles.length) lines.push(`vulkan ICDs  ${a.icdFiles.join(':')}`);
  if (r.probe) {
    lines.push(`matmul probe ${r.probe.gflops.toFixed(2)} GFLOP/s (${r.probe.size}³ f32, ${r.probe.iterations} runs in ${r.probe.seconds.toFixed(1)} s)`);
  }
  return lines.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the WebGPU adapter wgml uses, its limits, and a matmul GFLOP/s probe')
    .option('--probe-seconds <s>', 'length of the matmul probe (0 skips it)', '2')
    .option('--json', 'print JSON')
    .action(async (opts: { probeSeconds: string; json?: boolean }, cmd: Command) => {
      const seconds = Number(opts.probeSeconds);
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`--probe-seconds: expected a number ≥ 0, got '${opts.probeSeconds}'`);
      const report = await collectInfo(globalOptions(cmd).adapter, seconds);
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatInfo(report));
    });
}
