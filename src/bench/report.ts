// Results of `wgml bench`: <base>.json (every case: wgml {ms, gflops} and per peer {ms, gflops,
// ratio} or {skipped}), <base>.md (tables) and <base>.vl.json (a vega-lite chart of peer/wgml
// time ratios per case; > 1: wgml is faster), rendered to <base>.svg at the end of a run.
import { writeFileSync } from 'node:fs';
import { parse as parseVega, View } from 'vega';
import { compile as compileVegaLite, type TopLevelSpec } from 'vega-lite';
import { PEERS, type PeerName } from './peers.js';
import { resnet18ConvShapes } from './resnet_shapes.js';

export interface Timing {
  ms: number;
  gflops: number | null;
  firstMs?: number;
  samples?: number;
  timer?: string;
  imagesPerSec?: number;
  [k: string]: unknown;
}
export type EngineResult = (Timing & { ratio: number }) | { skipped: string };

export interface CaseResult {
  name: string;
  /** The agreement tolerance the peers were checked against (see the case's kind). */
  tolerance: number;
  wgml: Timing & { error?: string };
  'tfjs-webgpu'?: EngineResult;
  'tfjs-wasm'?: EngineResult;
  'tfjs-cpu'?: EngineResult;
  gpujs?: EngineResult;
  'torch-cpu'?: EngineResult;
}

export interface BenchResult {
  meta: Record<string, unknown>;
  cases: CaseResult[];
}

/**
 * Cases of later runs (e.g. `--only` runs that finished a suite cut short) added to `main`: a case
 * of the same name is replaced, a new one goes after the last case of its family (the first two
 * words of its name: "conv cifar", "training step"). Each run's date and settings stay in meta.
 */
export function mergeResults(main: BenchResult, others: { file: string; result: BenchResult }[]): BenchResult {
  const cases = [...main.cases];
  const family = (name: string) => name.split(' ').slice(0, 2).join(' ');
  for (const { result } of others) {
    for (const c of result.cases) {
      const same = cases.findIndex((x) => x.name === c.name);
      if (same >= 0) {
        cases[same] = c;
        continue;
      }
      let at = -1;
      cases.forEach((x, i) => family(x.name) === family(c.name) && (at = i));
      cases.splice(at >= 0 ? at + 1 : cases.length, 0, c);
    }
  }
  const mergedFrom = others.map(({ file, result }) => ({ file, date: result.meta.date, samples: result.meta.samples, cases: result.cases.map((c) => c.name) }));
  return { meta: { ...main.meta, mergedFrom: [...((main.meta.mergedFrom as unknown[]) ?? []), ...mergedFrom] }, cases };
}

const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

/** One markdown table row; with no peers a table has no empty trailing column. */
const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`;

function cell(e: EngineResult | undefined): string {
  if (!e) return '';
  if ('skipped' in e) return 'skip';
  return `${f(e.ms)} ms (×${f(e.ratio, 2)})`;
}

export function markdown(r: BenchResult): string {
  const m = r.meta;
  const peers = PEERS.filter((p) => r.cases.some((c) => c[p]));
  const lines = [
    `# wgml vs peers — ${m.adapter}${m.quick ? ' (quick suite)' : ''}`,
    '',
    `Adapter: ${m.adapterName} (${m.adapter}); ${m.date}; ${m.host}. ${m.timing}`,
    '',
    ...((m.mergedFrom as { file: string; date: string; samples: number; cases: string[] }[] | undefined) ?? []).flatMap((x) => [
      `Merged from a later run (${x.file}, ${x.date}, ${x.samples} samples): ${x.cases.length} case(s), each with its peers from that same run.`,
      '',
    ]),
    'Ratios are peer time / wgml time from the same run (> 1: wgml is faster). "skip": see the reasons below.',
    '',
    '## Peers',
    '',
    ...Object.entries(m.peers as Record<string, { note?: string; unavailable?: string }>).map(([k, v]) => `- ${k}: ${v.unavailable ? `unavailable — ${v.unavailable}` : v.note}`),
    '',
  ];
  const steps = r.cases.filter((c) => c.wgml.imagesPerSec !== undefined || peers.some((p) => (c[p] as Timing | undefined)?.imagesPerSec !== undefined));
  if (steps.length) {
    lines.push('## Images per second', '', mdRow(['case', 'wgml', ...peers]), mdRow(['---', '---:', ...peers.map(() => '---:')]));
    for (const c of steps) {
      const ips = (e: EngineResult | Timing | undefined) => (!e ? '' : 'skipped' in e ? 'skip' : f(e.imagesPerSec as number, 2));
      lines.push(mdRow([c.name, ips(c.wgml), ...peers.map((p) => ips(c[p]))]));
    }
    lines.push('');
    lines.push('### Memory (training steps)', '');
    for (const c of steps.filter((s) => s.name.startsWith('training'))) {
      const mb = (b: unknown) => (typeof b === 'number' ? `${(b / 2 ** 20).toFixed(0)} MiB` : '—');
      const parts = [`wgml pool peak ${mb(c.wgml.poolPeakBytes)}, process RSS peak ${mb(c.wgml.rssPeakBytes)}`];
      const tw = c['tfjs-webgpu'];
      if (tw && !('skipped' in tw)) {
        const tm = tw.tfMemory as Record<string, number> | undefined;
        parts.push(`tfjs-webgpu tf.memory() ${mb(tm?.numBytes)} in ${tm?.numTensors ?? '—'} tensors (GPU buffers in use ${mb(tm?.numBytesInGPU)}, allocated ${mb(tm?.numBytesAllocatedInGPU)}), process RSS ${mb(tw.rssPeakBytes)}`);
      }
      const tc = c['tfjs-cpu'];
      if (tc && !('skipped' in tc)) parts.push(`tfjs-cpu tf.memory() ${mb((tc.tfMemory as Record<string, number> | undefined)?.numBytes)}, process RSS ${mb(tc.rssPeakBytes)}`);
      const pt = c['torch-cpu'];
      if (pt && !('skipped' in pt)) parts.push(`torch-cpu peak RSS ${mb(pt.rssPeakBytes)} (its own process)`);
      lines.push(`- ${c.name}: ${parts.join('; ')}.`);
    }
    lines.push('', 'wgml and the TF.js backends share one Node process, so its RSS is theirs together; PyTorch runs in its own.', '');
  }
  lines.push(...convBudget(r, peers));
  lines.push('## All cases (median ms, ×ratio = peer/wgml)', '', mdRow(['case', 'wgml ms', 'wgml GFLOP/s', 'wgml first call ms', ...peers]), mdRow(['---', '---:', '---:', '---:', ...peers.map(() => '---')]));
  for (const c of r.cases) lines.push(mdRow([c.name, f(c.wgml.ms), f(c.wgml.gflops, 2), f(c.wgml.firstMs, 0), ...peers.map((p) => cell(c[p]))]));
  lines.push('', '## Skip reasons and notes', '');
  const reasons = new Map<string, string[]>();
  for (const c of r.cases) {
    for (const p of peers) {
      const e = c[p];
      if (e && 'skipped' in e) {
        const k = `${p}: ${e.skipped}`;
        reasons.set(k, [...(reasons.get(k) ?? []), c.name]);
      }
    }
    if (c.wgml.error) lines.push(`- wgml failed on ${c.name}: ${c.wgml.error}`);
  }
  for (const [k, cs] of reasons) lines.push(`- ${k} — ${cs.length === r.cases.length ? 'all cases' : cs.join('; ')}`);
  const direct = r.cases.flatMap((c) => [['wgml', c.wgml] as const, ...peers.map((p) => [p, c[p]] as const)].filter(([, e]) => e && !('skipped' in e) && e.timer === 'direct').map(([p, e]) => `${c.name} / ${p} (${(e as Timing).samples} samples)`));
  if (direct.length) lines.push(`- Timed directly (warm-up call over 20 s, fewer samples): ${direct.join('; ')}.`);
  const once = r.cases.flatMap((c) => [['wgml', c.wgml] as const, ...peers.map((p) => [p, c[p]] as const)].filter(([, e]) => e && !('skipped' in e) && e.timer === 'first-call-only').map(([p]) => `${c.name} / ${p}`));
  if (once.length) lines.push(`- One call only (first call over the per-call limit; it includes compilation): ${once.join('; ')}.`);
  for (const p of peers) {
    const rs = r.cases.map((c) => c[p]).filter((e): e is Timing & { ratio: number } => !!e && !('skipped' in e) && Number.isFinite(e.ratio));
    if (rs.length) {
      const gm = Math.exp(rs.reduce((a, e) => a + Math.log(e.ratio), 0) / rs.length);
      const weakest = r.cases.filter((c) => { const e = c[p]; return e && !('skipped' in e); }).sort((a, b) => (a[p] as { ratio: number }).ratio - (b[p] as { ratio: number }).ratio).slice(0, 5);
      lines.push(`- ${p}: geometric mean ratio ×${gm.toFixed(2)} over ${rs.length} cases; wgml weakest: ${weakest.map((c) => `${c.name} ×${(c[p] as { ratio: number }).ratio.toFixed(2)}`).join('; ')}.`);
    }
  }
  const merged = ((m.mergedFrom as { cases: string[] }[] | undefined) ?? []).reduce((a, x) => a + x.cases.length, 0);
  if (!m.finished) {
    const reached = merged ? `the cases above are the ones it reached, and the ${merged} merged from later runs (named at the top)` : 'the cases above are the ones it reached';
    lines.push('', `**This run did not finish${m.stopped ? ` (stopped: ${m.stopped})` : ''}: ${reached}.**`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Per stem, the convolutions of one width-64 training step at batch 16 from the measured kernel
 * cases (each shape × its count in ResNet18; forward, input gradient except conv1's, weight
 * gradient), next to the measured step: how much of a step is convolution, per engine.
 */
export function convBudget(r: BenchResult, peers: PeerName[]): string[] {
  const out: string[] = [];
  for (const [stem, stepName] of [['torchvision', 'training step, torchvision stem, width 64'], ['cifar', "training step, CIFAR stem, width 64 (the paper's model)"]] as const) {
    const shapes = resnet18ConvShapes(stem, 16);
    const engines: ('wgml' | PeerName)[] = ['wgml', ...peers];
    const rows: string[] = [];
    for (const eng of engines) {
      let total = 0;
      let complete = true;
      for (const c of shapes) {
        for (const mode of ['forward', 'backward-input', 'backward-weight']) {
          if (c.name === 'conv1' && mode === 'backward-input') continue;
          const cs = r.cases.find((k) => k.name.startsWith(`conv ${stem} ${c.name} ${mode} (`));
          const e = cs ? (eng === 'wgml' ? cs.wgml : cs[eng]) : undefined;
          if (!e || 'skipped' in e || !Number.isFinite(e.ms)) complete = false;
          else total += c.count * e.ms;
        }
      }
      if (!complete) continue;
      const step = r.cases.find((k) => k.name === stepName);
      const se = step ? (eng === 'wgml' ? step.wgml : step[eng]) : undefined;
      const stepMs = se && !('skipped' in se) && Number.isFinite(se.ms) ? se.ms : NaN;
      rows.push(`| ${eng} | ${(total / 1000).toFixed(2)} | ${f(stepMs / 1000, 2)} | ${Number.isFinite(stepMs) ? `${((100 * total) / stepMs).toFixed(0)}%` : '—'} |`);
    }
    if (rows.length) {
      out.push(`### Convolutions of one ${stem}-stem width-64 step (sum of the measured kernel cases)`, '', '| engine | conv s | measured step s | convs / step |', '|---|---:|---:|---:|', ...rows, '');
    }
  }
  return out;
}

export function chartSpec(r: BenchResult): TopLevelSpec {
  const values = r.cases.flatMap((c) =>
    PEERS.flatMap((p: PeerName) => {
      const e = c[p];
      return e && !('skipped' in e) && Number.isFinite(e.ratio) ? [{ case: c.name, peer: p, ratio: e.ratio }] : [];
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `peer time / wgml time per case — ${r.meta.adapter} (> 1: wgml faster)`,
    data: { values },
    // Points, not bars: a log axis has no zero for a bar to start from. The rule marks parity.
    layer: [
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          y: { field: 'case', type: 'nominal', sort: null, axis: { labelLimit: 420, title: null } },
          x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'peer ms / wgml ms (log; > 1: wgml faster)' },
          color: { field: 'peer', type: 'nominal' },
          shape: { field: 'peer', type: 'nominal' },
          tooltip: [{ field: 'case' }, { field: 'peer' }, { field: 'ratio', format: '.3f' }],
        },
      },
      { mark: { type: 'rule', color: 'black' }, encoding: { x: { datum: 1 } } },
    ],
    width: 500,
  } as TopLevelSpec;
}

export function writeReport(r: BenchResult, base: string): void {
  writeFileSync(`${base}.json`, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(`${base}.md`, markdown(r));
  writeFileSync(`${base}.vl.json`, JSON.stringify(chartSpec(r), null, 2) + '\n');
}

export async function renderChart(r: BenchResult, base: string): Promise<void> {
  const view = new View(parseVega(compileVegaLite(chartSpec(r)).spec), { renderer: 'none' });
  try {
    writeFileSync(`${base}.svg`, await view.toSVG());
  } finally {
    view.finalize();
  }
}
