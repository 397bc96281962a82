// What one storage-buffer load costs an invocation on this adapter, next to the FMAs it feeds,
// and what sharing loads across a subgroup saves. The evidence behind the conv kernels'
// subgroup-shared loads (docs/DECISIONS.md, "Conv loads shared across a subgroup"):
//
//   npx tsx bench/load_cost.ts [--adapter lavapipe|swiftshader|gpu|auto] [--out bench/results]
//
// Each kernel runs 256 workgroups of 64 invocations; an invocation does 512 iterations of
// 8 vec4 loads feeding 16 vec4 FMAs. Variants:
//   one load        — the 8 loads read one address (the compiler keeps one load): FMA cost;
//   per-lane        — 8 different addresses per invocation;
//   constant        — 8 addresses the same for every invocation (literal offsets);
//   workgroup       — 8 addresses the same within a workgroup (from workgroup_id);
//   subgroup-shared — as workgroup, but each lane loads one of them and subgroupBroadcast
//                     hands the 8 round (needs the subgroups feature, subgroup size ≥ 8).
// Median of 5 timed runs after one untimed run; all variants are timed in turn, three rounds.
import { Runtime } from '../src/kernels/runtime.js';
import { probeArgs, timeProbes, writeProbe } from './probe.js';

const WORKGROUPS = 256;
const WG = 64;
const ITERS = 512;

type Variant = 'one load' | 'per-lane' | 'constant' | 'workgroup' | 'subgroup-shared';

function kernel(v: Variant): string {
  const base = v === 'per-lane' ? 'g.x * 16u' : v === 'constant' ? '0u' : 'wid.x * 4096u';
  const loads = v === 'subgroup-shared'
    ? ['let s = W[base + k * 8u + (lid % 8u)];', ...Array.from({ length: 8 }, (_, i) => `let x${i} = subgroupBroadcast(s, ${i}u);`)]
    : Array.from({ length: 8 }, (_, i) => `let x${i} = W[base + k * 8u + ${v === 'one load' ? 0 : i}u];`);
  const fma = (src: (i: number) => string) => Array.from({ length: 8 }, (_, i) => `a${i} = fma(${src(i)}, a${(i + 1) % 8}.wzyx, a${i});`);
  return [
    v === 'subgroup-shared' ? 'enable subgroups;' : '',
    '@group(0) @binding(0) var<storage, read> W: array<vec4f>;',
    '@group(0) @binding(1) var<storage, read_write> O: array<vec4f>;',
    `@compute @workgroup_size(${WG})`,
    'fn main(@builtin(global_invocation_id) g: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {',
    Array.from({ length: 8 }, (_, i) => `  var a${i} = vec4f(${i});`).join('\n'),
    `  let base = ${base};`,
    `  for (var k = 0u; k < ${ITERS}u; k++) {`,
    ...loads.map((l) => `    ${l}`),
    ...fma((i) => `x${i}`).map((l) => `    ${l}`),
    ...fma((i) => `a${(i + 3) % 8}`).map((l) => `    ${l}`),
    '  }',
    `  O[g.x] = ${Array.from({ length: 8 }, (_, i) => `a${i}`).join(' + ')};`,
    '}',
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { adapter, out } = probeArgs(argv);
  const rt = await Runtime.create({ adapter });
  const dev = rt.device;
  const sg = rt.gpu.info.subgroupSize;
  const variants: Variant[] = ['one load', 'per-lane', 'constant', 'workgroup'];
  if (sg !== null && sg >= 8) variants.push('subgroup-shared');
  const W = dev.createBuffer({ size: WORKGROUPS * 4096 * 16 + 1024 * 16, usage: GPUBufferUsage.STORAGE, label: 'load_cost.W' });
  const O = dev.createBuffer({ size: WORKGROUPS * WG * 16, usage: GPUBufferUsage.STORAGE, label: 'load_cost.O' });
  const built = variants.map((v) => {
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: kernel(v) }), entryPoint: 'main' } });
    const group = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: W } }, { binding: 1, resource: { buffer: O } }] });
    return { v, pipeline, group, x: WORKGROUPS, y: 1 };
  });
  const times = await timeProbes(dev, built);
  const invocations = WORKGROUPS * WG;
  const loads = invocations * ITERS * 8;
  const ms = (v: Variant) => times.get(v)!;
  const oneLoad = ms('one load');
  const info = rt.gpu.info;
  const lines = [
    `# Storage-load cost — ${info.kind}`,
    '',
    `Adapter: ${info.name} (${info.kind}), subgroup size ${sg ?? 'not fixed / no subgroups'}; ${new Date().toISOString().slice(0, 10)}. Command: \`npx tsx bench/load_cost.ts ${argv.join(' ')}\`.`,
    `${WORKGROUPS} workgroups × ${WG} invocations × ${ITERS} iterations of 8 vec4 loads feeding 16 vec4 FMAs (${(invocations * ITERS * 16 * 8 / 1e9).toFixed(2)} GFLOP). Median of three rounds, each the median of 5 runs.`,
    '',
    '| variant | ms | ns per vec4 load per invocation, over "one load" | GFLOP/s |',
    '|---|---:|---:|---:|',
    ...variants.map((v) => `| ${v} | ${ms(v).toFixed(1)} | ${v === 'one load' ? '—' : (((ms(v) - oneLoad) * 1e6) / (loads - invocations * ITERS)).toFixed(2)} | ${((invocations * ITERS * 16 * 8) / (ms(v) / 1e3) / 1e9).toFixed(2)} |`),
    '',
  ];
  writeProbe(out, `load-cost-${info.kind}.md`, lines.join('\n'));
  W.destroy();
  O.destroy();
  rt.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
