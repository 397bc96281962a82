// How fast this adapter moves bytes through storage buffers, in the access pattern of a conv
// stem's output: the ceiling of a conv whose 1 input channel gives it too few FMAs per output
// to hide its stores (the CIFAR stem writes 51 MB for 0.23 GFLOP).
//
//   npx tsx bench/store_cost.ts [--adapter lavapipe|swiftshader|gpu|auto] [--out bench/results]
//
// The buffer is a [16, 64, 112, 112] f32 activation (the CIFAR stem's output at batch 16).
// Variants, each one dispatch over the whole tensor:
//   store linear    — invocation i stores vec4 i;
//   store conv tile — each invocation stores the forward kernel's stem tile (8 channels × 16
//                     columns of one row: 32 vec4s, a plane apart per channel), in its grid order;
//   load conv tile  — the same 32 vec4s loaded and summed into one vec4 store (what the
//                     stem's weight gradient reads of dy);
//   copy linear     — invocation i loads vec4 i of a second tensor and stores it.
// Median of three rounds, each the median of 5 runs after one untimed run.
import { Runtime } from '../src/kernels/runtime.js';
import { probeArgs, timeProbes, writeProbe } from './probe.js';

const N = 16;
const C = 64;
const H = 112;
const W4 = 112 / 4;
const VEC4S = N * C * H * W4;
const BYTES = VEC4S * 16;
const WG = 64;
// The stem tile: 8 channels (COTV 2) × 4 vec4 columns (TWV 4) × 1 row.
const TILE_C = 8;
const TILE_V = 4;

type Variant = 'store linear' | 'store conv tile' | 'load conv tile' | 'copy linear';

function kernel(v: Variant): string {
  const head = [
    '@group(0) @binding(0) var<storage, read> A: array<vec4f>;',
    '@group(0) @binding(1) var<storage, read_write> O: array<vec4f>;',
    `@compute @workgroup_size(${WG})`,
    'fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {',
    `  let id = gid.x + gid.y * nwg.x * ${WG}u;`,
  ];
  if (v === 'store linear' || v === 'copy linear') {
    const value = v === 'store linear' ? 'vec4f(f32(id))' : 'A[id]';
    return [...head, `  if (id >= ${VEC4S}u) { return; }`, `  O[id] = ${value};`, '}'].join('\n');
  }
  // The forward kernel's grid: column tiles fastest, then rows, images, channel tiles.
  const tilesW = W4 / TILE_V;
  const lanes = tilesW * H * N;
  const body = [
    `  if (id >= ${lanes * (C / TILE_C)}u) { return; }`,
    `  let l = id % ${lanes}u;`,
    `  let ot = id / ${lanes}u;`,
    `  let tw = l % ${tilesW}u;`,
    `  let h = (l / ${tilesW}u) % ${H}u;`,
    `  let n = l / ${tilesW * H}u;`,
    `  let base = ((n * ${C}u + ot * ${TILE_C}u) * ${H}u + h) * ${W4}u + tw * ${TILE_V}u;`,
    '  var s = vec4f(0.0);',
    `  for (var c = 0u; c < ${TILE_C}u; c++) {`,
    `    for (var q = 0u; q < ${TILE_V}u; q++) {`,
    `      let idx = base + c * ${H * W4}u + q;`,
    v === 'store conv tile' ? '      O[idx] = vec4f(f32(id + c + q));' : '      s += A[idx];',
    '    }',
    '  }',
    v === 'load conv tile' ? '  O[id] = s;' : '',
    '}',
  ];
  return [...head, ...body].join('\n');
}

function invocations(v: Variant): number {
  return v === 'store linear' || v === 'copy linear' ? VEC4S : VEC4S / (TILE_C * TILE_V);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { adapter, out } = probeArgs(argv);
  const rt = await Runtime.create({ adapter });
  const dev = rt.device;
  const variants: Variant[] = ['store linear', 'store conv tile', 'load conv tile', 'copy linear'];
  const A = dev.createBuffer({ size: BYTES, usage: GPUBufferUsage.STORAGE, label: 'store_cost.A' });
  const O = dev.createBuffer({ size: BYTES, usage: GPUBufferUsage.STORAGE, label: 'store_cost.O' });
  const maxX = dev.limits.maxComputeWorkgroupsPerDimension;
  const built = variants.map((v) => {
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: kernel(v) }), entryPoint: 'main' } });
    // 'auto' layouts leave out A where the kernel never reads it.
    const reads = v === 'load conv tile' || v === 'copy linear';
    const entries = [...(reads ? [{ binding: 0, resource: { buffer: A } }] : []), { binding: 1, resource: { buffer: O } }];
    const group = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const groups = Math.ceil(invocations(v) / WG);
    const x = Math.min(groups, maxX);
    return { v, pipeline, group, x, y: Math.ceil(groups / x) };
  });
  const times = await timeProbes(dev, built);
  const ms = (v: Variant) => times.get(v)!;
  // Bytes the variant must move: one tensor, two for the copy.
  const moved = (v: Variant) => (v === 'copy linear' ? 2 : 1) * BYTES;
  const stemFlop = 2 * N * C * H * H * 9;
  const info = rt.gpu.info;
  const lines = [
    `# Storage store and load cost — ${info.kind}`,
    '',
    `Adapter: ${info.name} (${info.kind}); ${new Date().toISOString().slice(0, 10)}. Command: \`npx tsx bench/store_cost.ts ${argv.join(' ')}\`.`,
    `One [${N}, ${C}, ${H}, ${H}] f32 tensor (${(BYTES / 1e6).toFixed(1)} MB), one dispatch per variant. Median of three rounds, each the median of 5 runs.`,
    '',
    '| variant | ms | GB/s | CIFAR-stem GFLOP/s if this were the whole conv |',
    '|---|---:|---:|---:|',
    ...variants.map((v) => `| ${v} | ${ms(v).toFixed(1)} | ${(moved(v) / (ms(v) / 1e3) / 1e9).toFixed(2)} | ${v === 'store conv tile' || v === 'load conv tile' ? (stemFlop / (ms(v) / 1e3) / 1e9).toFixed(2) : '—'} |`),
    '',
    `The CIFAR stem (1→64, 3×3, stride 1, batch 16, 112²) is ${(stemFlop / 1e9).toFixed(3)} GFLOP: its forward stores this tensor once (the "store conv tile" row is its ceiling), its weight gradient loads it once as dy (the "load conv tile" row).`,
    '',
  ];
  writeProbe(out, `store-cost-${info.kind}.md`, lines.join('\n'));
  A.destroy();
  O.destroy();
  rt.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
