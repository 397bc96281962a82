// `wgml bench`: wgml against TensorFlow.js (WebGPU on the same Dawn adapter, WebAssembly, CPU),
// gpu.js and PyTorch CPU, case by case in one process and one run, so the ratios share the
// machine's load. For each case and engine: set up, one untimed warm-up call (its time is the
// "first call": compilation + first run), an agreement check of the output against wgml's
// (stated tolerance; a peer that disagrees is skipped with the numbers), untimed calls until
// wgml is steady (its training step: three, for the pool's step plan), then the timed calls
// (benny; every call awaits GPU completion). Results are written after every case, so an
// interrupted run still leaves what it measured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../kernels/runtime.js';
import { resolveChoice } from '../kernels/device.js';
import type { PooledBuffer } from '../kernels/buffer_pool.js';
import { matmul } from '../kernels/matmul.js';
import { conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dOutputSize, conv2dFlops, type Conv2dShape } from '../kernels/conv2d.js';
import { batchNormTrainForward, batchNormBackward } from '../kernels/batchnorm.js';
import { maxPool2dForward } from '../kernels/pool.js';
import { ResNet18, type Stem } from '../nn/resnet18.js';
import { Adam } from '../nn/adam.js';
import { Tensor, scope } from '../nn/tensor.js';
import { noGrad } from '../nn/tape.js';
import { gradCamBatch } from '../nn/gradcam.js';
import { trainStep, augmentedInputs } from '../train/step.js';
import type { AugmentedBatch } from '../backmix/augment.js';
import { loadPeers, setTfBackend, PEERS, TF_BACKEND, type PeerName, type Tf, type TorchResult } from './peers.js';
import { timeCase, type Timed } from './timing.js';
import { buildTfResNet18, toTorchLayout, tfParam, type HostTensor } from './tf_resnet18.js';
import { resnet18ConvShapes } from './resnet_shapes.js';
import { augmentCase, correlation } from './augment_case.js';
import { writeReport, renderChart, type BenchResult, type CaseResult, type EngineResult } from './report.js';

export interface BenchOptions {
  adapter?: string;
  quick: boolean;
  peers: PeerName[];
  out: string;
  /** Only cases whose name contains one of these substrings. */
  only?: string[];
  /** Timed samples per case (default 5; quick 3). */
  samples?: number;
  /** A call slower than this (first call included) is timed once only (default 120 s). */
  maxCallSeconds?: number;
  /** A peer's CIFAR-stem step whose estimated time exceeds this is skipped (default 8 min). */
  maxEstimateMinutes?: number;
  log?: (s: string) => void;
}

type Run = () => Promise<void>;
interface Prepared {
  run: Run;
  /** The output to compare with wgml's, in wgml's layout. */
  output?: () => Promise<Float32Array>;
  dispose?: () => void;
  extra?: Record<string, unknown>;
  /**
   * Untimed calls after the first (and after the output is taken) until the engine is steady:
   * wgml's training step packs the pool's step plan after its second step, creates it in the
   * third and touches its buffers first in the fourth, which runs 1.25–1.5× a steady step.
   */
  settle?: () => Promise<void>;
}

/**
 * The warm-up time that decides between benny and direct timing: a first call over 5 s is mostly
 * compilation, so a second untimed call tells the steady cost.
 */
async function steady(run: () => Promise<void>, firstMs: number): Promise<number> {
  if (firstMs <= 5000) return firstMs;
  const t = performance.now();
  await run();
  return performance.now() - t;
}

/** n values uniform in [−scale, scale) from a fixed LCG, so every engine and run sees the same data. */
export function rand(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return a;
}

/** max|a−b| / max|b|: the error relative to the reference's scale. */
export function relErr(a: Float32Array, ref: Float32Array): { rel: number; maxAbs: number } {
  if (a.length !== ref.length) return { rel: Infinity, maxAbs: Infinity };
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    if (Number.isNaN(d)) return { rel: NaN, maxAbs: NaN }; // a NaN fails every tolerance
    if (d > m) m = d;
    s = Math.max(s, Math.abs(ref[i]!));
  }
  return { rel: m / Math.max(s, 1e-30), maxAbs: m };
}

/** NHWC → NCHW. */
function nhwcToNchw(d: Float32Array, N: number, H: number, W: number, C: number): Float32Array {
  const out = new Float32Array(d.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) out[((n * C + c) * H + h) * W + w] = d[((n * H + h) * W + w) * C + c]!;
  return out;
}

interface Verdict {
  ok: boolean;
  detail: string;
  agree: Record<string, unknown>;
}
type Compare = (peer: Float32Array, ref: Float32Array) => Verdict;

function relCompare(tol: number): Compare {
  return (a, ref) => {
    const e = relErr(a, ref);
    return { ok: e.rel <= tol, detail: `max|Δ|/max|ref| = ${e.rel.toExponential(2)} (tolerance ${tol})`, agree: { relErr: e.rel } };
  };
}

/**
 * Training step agreement, on [loss, Δw…] (Δw = a checked parameter after one step minus its
 * initial value): loss within 1e-3 relative, and ≥ 90% of the Δw within 0.1·lr of wgml's.
 * (Adam's first step moves each weight by ≈ ±lr whatever the gradient's size, so a weight whose
 * gradient is near 0 may go either way in two correct engines; most must agree.)
 */
export function stepCompare(lr: number): Compare {
  return (a, ref) => {
    if (a.length !== ref.length) return { ok: false, detail: `length ${a.length} vs ${ref.length}`, agree: {} };
    const lossRel = Math.abs(a[0]! - ref[0]!) / Math.max(Math.abs(ref[0]!), 1e-12);
    let near = 0;
    for (let i = 1; i < a.length; i++) if (Math.abs(a[i]! - ref[i]!) <= 0.1 * lr) near++;
    const frac = near / Math.max(1, a.length - 1);
    return {
      ok: lossRel <= 1e-3 && frac >= 0.9,
      detail: `loss ${a[0]!.toFixed(6)} vs wgml ${ref[0]!.toFixed(6)} (rel ${lossRel.toExponential(2)}, tolerance 1e-3); ${(100 * frac).toFixed(1)}% of ${a.length - 1} updated weights within 0.1·lr of wgml's (need 90%)`,
      agree: { lossRel, weightsAgreeFrac: frac, loss: a[0] },
    };
  };
}

const NO_WASM_FILTER = 'tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel: it cannot train a convnet';
const CPU_FILTER_SLOW = "tfjs-cpu's Conv2DBackpropFilter is a scalar JS loop: 97 s for one call of the 0.9-GFLOP torchvision layer1 shape on this 2-core machine, so its weight-gradient cases are not run";

const RELEVANT_SKIP: Partial<Record<PeerName, string>> = { gpujs: 'gpu.js: matmul only (its kernels are hand-written JS loops; a convnet in it is out of scope)' };

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const choice = resolveChoice(o.adapter);
  const rt = await Runtime.create({ adapter: choice });
  const kind = rt.gpu.info.kind;
  log(`wgml on ${rt.gpu.info.name} (${kind}); ${o.quick ? 'quick' : 'full'} suite; peers: ${o.peers.join(', ') || '(none)'}`);
  const peers = await loadPeers(o.peers, kind, log);
  const samples = o.samples ?? (o.quick ? 2 : 5);
  const maxCallMs = (o.maxCallSeconds ?? 120) * 1000;
  const maxEstimateMs = (o.maxEstimateMinutes ?? 8) * 60000;
  const date = new Date().toISOString();
  const result: BenchResult = {
    meta: {
      adapter: kind, adapterName: rt.gpu.info.name, date, quick: o.quick, samples,
      host: `${process.platform} ${process.arch} node ${process.version}`,
      peers: Object.fromEntries(o.peers.map((p) => [p, peers.unavailable[p] ? { unavailable: peers.unavailable[p] } : { note: peers.notes[p] ?? '' }])),
      timing: `benny (Benchmark.js) median of ≥${samples} samples after one untimed warm-up call per engine (wgml's training step: three more, until the pool's step plan is in use); calls whose steady warm-up exceeds ${o.quick ? 3 : 20} s are timed directly (fewer samples, stated per case), and a first call over ${o.maxCallSeconds ?? 120} s is the only one (timer 'first-call-only': it includes compilation, so it overstates that engine's time). torch-cpu is timed inside Python (same warm-up, median) so the pipe is never timed. Every timed call awaits GPU completion (wgml: rt.finish() or a 16-byte readback; TF.js: a 1-element readback of the result).`,
    },
    cases: [],
  };
  const stamp = date.slice(0, 10);
  const onlySlug = o.only ? `-only-${o.only.join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}` : '';
  const base = join(o.out, `${kind}${o.quick ? '-quick' : ''}-${stamp}${onlySlug}`);
  mkdirSync(o.out, { recursive: true });
  let lastWgmlMs = NaN;
  // A run stopped from outside (timeout, Ctrl-C) still leaves its report and chart.
  const onStop = (sig: NodeJS.Signals) => {
    result.meta.stopped = `${sig} at ${new Date().toISOString()}, after ${result.cases.length} cases`;
    writeReport(result, base);
    void renderChart(result, base).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGTERM', onStop);
  process.once('SIGINT', onStop);
  const want = (name: string) => !o.only || o.only.some((s) => name.includes(s));

  /** Runs one case over wgml and every peer and records it. */
  async function runCase(
    name: string,
    flop: number | null,
    tol: number,
    wgml: () => Promise<Prepared>,
    peer: (p: PeerName) => Promise<Prepared | string>,
    opts: { samples?: number; slowSamples?: number; compare?: Compare; torch?: (ref: Float32Array | null, wgmlMs: number) => Promise<EngineResult> } = {},
  ): Promise<CaseResult | null> {
    if (!want(name)) return null;
    const n = opts.samples ?? samples;
    const cr: CaseResult = { name, tolerance: tol, wgml: { ms: NaN, gflops: null } };
    log(`\n## ${name}`);
    const gf = (ms: number) => (flop ? flop / (ms * 1e6) : null);
    // A call over maxCallMs (a TF.js width-64 step on a software GPU) is not repeated: its one
    // (first, compiling) call is the time, flagged 'first-call-only'.
    const measure = async (label: string, run: Run, first: number): Promise<Timed> =>
      first > maxCallMs
        ? { ms: first, samples: 1, timer: 'first-call-only' }
        : timeCase(label, run, {
            samples: n, warmupMs: await steady(run, first), steadySample: first > 5000,
            directAboveMs: o.quick ? 3000 : 20000, slowSamples: opts.slowSamples ?? 2,
          });
    let ref: Float32Array | null = null;
    try {
      const w = await wgml();
      const t0 = performance.now();
      await w.run();
      const first = performance.now() - t0;
      ref = w.output ? await w.output() : null;
      await w.settle?.();
      const t = await measure(`${name} wgml`, w.run, first);
      cr.wgml = { ms: t.ms, gflops: gf(t.ms), firstMs: first, samples: t.samples, timer: t.timer, ...(w.extra ?? {}) };
      lastWgmlMs = t.ms;
      w.dispose?.();
      log(`wgml        ${t.ms.toFixed(1).padStart(9)} ms  (first call ${first.toFixed(0)} ms, ${t.samples} samples, ${t.timer})`);
    } catch (e) {
      cr.wgml = { ms: NaN, gflops: null, error: (e as Error).message };
      log(`wgml failed: ${(e as Error).message}`);
    }
    for (const p of PEERS) {
      if (!o.peers.includes(p)) continue;
      const unavailable = peers.unavailable[p];
      if (unavailable) {
        cr[p] = { skipped: unavailable };
        continue;
      }
      if (p === 'torch-cpu') {
        if (!opts.torch) {
          cr[p] = { skipped: 'no PyTorch version of this case in the bench' };
        } else {
          try {
            cr[p] = await opts.torch(ref, cr.wgml.ms);
          } catch (e) {
            cr[p] = { skipped: `PyTorch failed: ${(e as Error).message}` };
          }
        }
      } else {
        try {
          if (p in TF_BACKEND) await setTfBackend(peers, p);
          const prep = await peer(p);
          if (typeof prep === 'string') {
            cr[p] = { skipped: prep };
          } else {
            const t0 = performance.now();
            await prep.run();
            const first = performance.now() - t0;
            let agree: Record<string, unknown> = {};
            if (prep.output && ref) {
              const e = (opts.compare ?? relCompare(tol))(await prep.output(), ref);
              agree = e.agree;
              if (!e.ok) {
                cr[p] = { skipped: `output disagrees with wgml's: ${e.detail}` };
                prep.dispose?.();
                log(`${p.padEnd(11)} disagrees (${e.detail})`);
                continue;
              }
            }
            const t = await measure(`${name} ${p}`, prep.run, first);
            cr[p] = { ms: t.ms, gflops: gf(t.ms), ratio: t.ms / cr.wgml.ms, firstMs: first, samples: t.samples, timer: t.timer, ...agree, ...(prep.extra ?? {}) };
            prep.dispose?.();
          }
        } catch (e) {
          cr[p] = { skipped: `failed: ${(e as Error).message.split('\n')[0]}` };
        }
      }
      const r = cr[p]!;
      log('skipped' in r ? `${p.padEnd(11)} skipped: ${r.skipped}` : `${p.padEnd(11)} ${r.ms.toFixed(1).padStart(9)} ms  ratio ${r.ratio.toFixed(2)}  (first ${(r.firstMs ?? 0).toFixed(0)} ms, ${r.samples} samples, ${r.timer ?? 'python'})`);
    }
    result.cases.push(cr);
    writeReport(result, base);
    rt.pool.trim();
    return cr;
  }

  const tf: Tf = peers.tf;
  const tfSync = async (y: Tf) => {
    // One element read back: waits for the producing kernels without timing a full download.
    const one = tf.slice(tf.reshape(y, [-1]), 0, 1);
    await one.data();
    one.dispose();
  };
  const torch = peers.torch;
  const torchResult = async (
    req: Record<string, unknown>, ref: Float32Array | null, tol: number, flop: number | null, wgmlMs: number,
    outputOf?: (r: TorchResult) => Float32Array, compare: Compare = relCompare(tol),
  ): Promise<EngineResult> => {
    const out = torch!.outPath();
    const r = await torch!.call({ ...req, out, samples: req.samples ?? samples });
    if (!r.ok) return { skipped: `PyTorch: ${r.error}` };
    let agree: Record<string, unknown> = {};
    if (ref) {
      const e = compare(outputOf ? outputOf(r) : torch!.read(out), ref);
      if (!e.ok) return { skipped: `output disagrees with wgml's: ${e.detail}` };
      agree = e.agree;
    }
    const extra = r.rss_peak_bytes ? { rssPeakBytes: r.rss_peak_bytes } : {};
    return { ms: r.ms, gflops: flop ? flop / (r.ms * 1e6) : null, ratio: r.ms / wgmlMs, firstMs: r.first_ms, samples: r.samples, timer: 'python', ...agree, ...extra };
  };

  // One batch for the model cases: 16 single-channel 112² images, 4 classes.
  const B = 16, S = 112, K = 4, lr = 1e-3;
  const CHECK = ['conv1.weight', 'layer1.0.bn1.weight', 'layer4.1.bn2.bias', 'fc.weight', 'fc.bias'];
  const xs = rand(B * S * S, 11);
  const labels = Array.from({ length: B }, (_, i) => i % K);
  const weights = Array.from({ length: B }, (_, i) => 0.5 + (i % 3) * 0.25);

  const matmulCases = async (): Promise<void> => {
    // ---- matmul ----
    for (const n of o.quick ? [512] : [512, 1024]) {
      const a = rand(n * n, 1), bm = rand(n * n, 2);
      const flop = 2 * n ** 3;
      let A: PooledBuffer, B: PooledBuffer, C: PooledBuffer;
      await runCase(
        `matmul ${n}³`, flop, 1e-4,
        async () => {
          A = rt.upload(a); B = rt.upload(bm); C = rt.allocF32(n * n);
          return {
            run: async () => { matmul(rt, A, B, C, { M: n, N: n, K: n }); await rt.finish(); },
            output: () => rt.readF32(C, n * n),
            dispose: () => { for (const x of [A, B, C]) rt.release(x); },
          };
        },
        async (p) => {
          if (p === 'gpujs') {
            const k = peers.gpujs.createKernel(function (this: { thread: { x: number; y: number }; constants: { n: number } }, x: Float32Array, y: Float32Array) {
              let s = 0;
              for (let i = 0; i < this.constants.n; i++) s += x[this.thread.y * this.constants.n + i]! * y[i * this.constants.n + this.thread.x]!;
              return s;
            }, { constants: { n }, output: [n, n], precision: 'single' });
            let out: Float32Array[] = [];
            return {
              run: async () => { out = k(a, bm) as Float32Array[]; },
              output: async () => { const f = new Float32Array(n * n); out.forEach((row, i) => f.set(row, i * n)); return f; },
              dispose: () => k.destroy?.(),
            };
          }
          const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(bm, [n, n]);
          let y: Tf = null;
          return {
            run: async () => { y?.dispose(); y = tf.matMul(ta, tb); await tfSync(y); },
            output: async () => y.data(),
            dispose: () => { tf.dispose([ta, tb, y]); },
          };
        },
        { torch: async (ref, ms) => torchResult({ op: 'matmul', n, a: torch!.file(a), b: torch!.file(bm) }, ref, 1e-4, flop, ms) },
      );
    }
  };

  const convCases = async (): Promise<void> => {
    // ---- conv2d: every distinct ResNet18 shape at 112², batch 16 ----
    const convShapes = (['imagenet', 'cifar'] as const).flatMap((stem) => resnet18ConvShapes(stem === 'imagenet' ? 'torchvision' : 'cifar', 16));
    const quickConvs = ['torchvision layer2.0 conv1 s2'];
    for (const c of convShapes) {
      const label = `${c.stem} ${c.name}`;
      if (o.quick && !quickConvs.includes(label)) continue;
      const s: Conv2dShape = c.shape;
      const { Ho, Wo } = conv2dOutputSize(s);
      const x = rand(s.N * s.Ci * s.H * s.W, 3), w = rand(s.Co * s.Ci * s.KH * s.KW, 4, 0.1), dy = rand(s.N * s.Co * Ho * Wo, 5);
      const flop = conv2dFlops(s);
      for (const mode of ['forward', 'input', 'weight'] as const) {
        const tol = mode === 'weight' ? 1e-3 : 2e-4;
        const name = `conv ${label} ${mode === 'forward' ? 'forward' : mode === 'input' ? 'backward-input' : 'backward-weight'} (${s.Ci}→${s.Co} ${s.KH}×${s.KW}/${s.stride} @${s.H})`;
        if (!want(name)) continue;
        let torchFiles: Record<string, string> | null = null;
        await runCase(
          name, flop, tol,
          async () => {
            const X = rt.upload(x), Wt = rt.upload(w), DY = rt.upload(dy);
            const outN = mode === 'forward' ? dy.length : mode === 'input' ? x.length : w.length;
            const Y = rt.allocF32(outN);
            const f = mode === 'forward' ? () => conv2dForward(rt, X, Wt, null, Y, s)
              : mode === 'input' ? () => conv2dBackwardInput(rt, DY, Wt, Y, s)
              : () => conv2dBackwardWeight(rt, X, DY, Y, null, s);
            return {
              run: async () => { f(); await rt.finish(); },
              output: () => rt.readF32(Y, outN),
              dispose: () => { for (const b of [X, Wt, DY, Y]) rt.release(b); },
            };
          },
          async (p) => {
            if (p === 'gpujs') return RELEVANT_SKIP.gpujs!;
            if (p === 'tfjs-wasm' && mode === 'weight') return NO_WASM_FILTER;
            if (p === 'tfjs-cpu' && mode === 'weight') return CPU_FILTER_SLOW;
            if (p === 'tfjs-cpu' && flop > 2e9) return `tfjs-cpu: not run above 2 GFLOP per call (it ran ~0.5–1 GFLOP/s here; this case is ${(flop / 1e9).toFixed(1)} GFLOP)`;
            const tx = tf.transpose(tf.tensor4d(x, [s.N, s.Ci, s.H, s.W]), [0, 2, 3, 1]);
            const tw = tf.tensor4d(toHwio(w, s), [s.KH, s.KW, s.Ci, s.Co]);
            const tdy = tf.transpose(tf.tensor4d(dy, [s.N, s.Co, Ho, Wo]), [0, 2, 3, 1]);
            const attrs = { strides: [s.stride, s.stride], pad: s.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
            const f = mode === 'forward' ? () => tf.conv2d(tx, tw, s.stride, s.pad)
              : mode === 'input' ? () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tdy, filter: tw }, { ...attrs, inputShape: [s.N, s.H, s.W, s.Ci] })
              : () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy }, { ...attrs, filterShape: [s.KH, s.KW, s.Ci, s.Co] });
            let y: Tf = null;
            return {
              run: async () => { y?.dispose(); y = f(); await tfSync(y); },
              output: async () => {
                const d = await y.data();
                if (mode === 'forward') return nhwcToNchw(d, s.N, Ho, Wo, s.Co);
                if (mode === 'input') return nhwcToNchw(d, s.N, s.H, s.W, s.Ci);
                return fromHwio(d, s);
              },
              dispose: () => tf.dispose([tx, tw, tdy, y]),
            };
          },
          {
            torch: async (ref, ms) => {
              torchFiles ??= { x: torch!.file(x), w: torch!.file(w), dy: torch!.file(dy) };
              return torchResult({ op: 'conv', shape: s, mode, ...torchFiles }, ref, tol, flop, ms);
            },
          },
        );
      }
    }
  };

  const bnPoolCases = async (): Promise<void> => {
    // ---- batchnorm forward + backward (training mode), max-pool ----
    const bnShapes: [number, number, number, number][] = o.quick ? [[16, 64, 28, 28]] : [[16, 64, 112, 112], [16, 64, 28, 28], [16, 512, 4, 4]];
    for (const sh of bnShapes) {
      const [N, C, H, W] = sh;
      const cnt = N * C * H * W;
      const x = rand(cnt, 8), dy = rand(cnt, 9);
      await runCase(
        `batchnorm forward+backward [${sh.join(',')}]`, null, 1e-3,
        async () => {
          const X = rt.upload(x), DY = rt.upload(dy), Y = rt.allocF32(cnt), DX = rt.allocF32(cnt);
          const g = rt.upload(new Float32Array(C).fill(1)), bta = rt.upload(new Float32Array(C)), rm = rt.upload(new Float32Array(C)), rv = rt.upload(new Float32Array(C).fill(1));
          const sm = rt.allocF32(C), si = rt.allocF32(C), dg = rt.allocF32(C), db = rt.allocF32(C);
          return {
            run: async () => {
              batchNormTrainForward(rt, X, g, bta, rm, rv, Y, sm, si, sh);
              batchNormBackward(rt, X, DY, g, sm, si, DX, dg, db, sh);
              await rt.finish();
            },
            output: () => rt.readF32(DX, cnt),
            dispose: () => { for (const b of [X, DY, Y, DX, g, bta, rm, rv, sm, si, dg, db]) rt.release(b); },
          };
        },
        async (p) => {
          if (p === 'gpujs') return RELEVANT_SKIP.gpujs!;
          const tx = tf.transpose(tf.tensor4d(x, sh), [0, 2, 3, 1]);
          const tdy = tf.transpose(tf.tensor4d(dy, sh), [0, 2, 3, 1]);
          const gamma = tf.ones([C]), beta = tf.zeros([C]);
          const grad = tf.grad((xx: Tf) => {
            const { mean, variance } = tf.moments(xx, [0, 1, 2]);
            return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, beta, gamma, 1e-5), tdy));
          });
          let y: Tf = null;
          return {
            run: async () => { y?.dispose(); y = grad(tx); await tfSync(y); },
            output: async () => nhwcToNchw(await y.data(), N, H, W, C),
            dispose: () => tf.dispose([tx, tdy, gamma, beta, y]),
          };
        },
        { torch: async (ref, ms) => torchResult({ op: 'batchnorm', shape: sh, x: torch!.file(x), dy: torch!.file(dy) }, ref, 1e-3, null, ms) },
      );
    }
    {
      const sh: [number, number, number, number] = [16, 64, 56, 56];
      const [N, C, H, W] = sh;
      const Ho = 28, Wo = 28;
      const x = rand(N * C * H * W, 10);
      await runCase(
        `max-pool 3×3/2 forward [${sh.join(',')}]`, null, 0,
        async () => {
          const X = rt.upload(x), Y = rt.allocF32(N * C * Ho * Wo), I = rt.allocF32(N * C * Ho * Wo);
          return {
            run: async () => { maxPool2dForward(rt, X, Y, I, sh, { kernel: 3, stride: 2, padding: 1 }); await rt.finish(); },
            output: () => rt.readF32(Y, N * C * Ho * Wo),
            dispose: () => { for (const b of [X, Y, I]) rt.release(b); },
          };
        },
        async (p) => {
          if (p === 'gpujs') return RELEVANT_SKIP.gpujs!;
          const tx = tf.transpose(tf.tensor4d(x, sh), [0, 2, 3, 1]);
          let y: Tf = null;
          return {
            run: async () => { y?.dispose(); y = tf.maxPool(tx, 3, 2, 1); await tfSync(y); },
            output: async () => nhwcToNchw(await y.data(), N, Ho, Wo, C),
            dispose: () => tf.dispose([tx, y]),
          };
        },
        { torch: async (ref, ms) => torchResult({ op: 'maxpool', shape: sh, x: torch!.file(x) }, ref, 0, null, ms) },
      );
    }
  };

  const stepCases = async (): Promise<void> => {
    // ---- the whole training step: forward, weighted cross-entropy, backward, Adam ----
    const steps: { name: string; stem: Stem; width: number }[] = [
      { name: 'training step, synthetic default (torchvision stem, width 8)', stem: 'imagenet', width: 8 },
      ...(o.quick ? [] : [
        { name: 'training step, torchvision stem, width 64', stem: 'imagenet' as Stem, width: 64 },
        { name: 'training step, CIFAR stem, width 64 (the paper\'s model)', stem: 'cifar' as Stem, width: 64 },
      ]),
    ];
    const rss = () => process.memoryUsage().rss;
    // The CIFAR-stem step costs ~30× the torchvision-stem one; a peer whose estimate (its
    // torchvision step × wgml's measured CIFAR/torchvision ratio) exceeds maxEstimateMs is skipped.
    const tvStepMs = new Map<string, number>();
    const estimateTooLong = (p: PeerName, stem: Stem): string | null => {
      const tv = tvStepMs.get(p), wtv = tvStepMs.get('wgml');
      if (stem !== 'cifar' || !tv || !wtv || !Number.isFinite(lastWgmlMs)) return null;
      const est = (tv * lastWgmlMs) / wtv;
      return est > maxEstimateMs
        ? `estimated ${(est / 60000).toFixed(0)} min per step (its torchvision-stem step ${(tv / 1000).toFixed(1)} s × wgml's CIFAR/torchvision step ratio ${(lastWgmlMs / wtv).toFixed(1)}), over this run's ${(maxEstimateMs / 60000).toFixed(0)}-min limit`
        : null;
    };
    for (const st of steps) {
      if (!want(st.name)) continue;
      // wgml's initial parameters, shared by every engine.
      const init = new ResNet18(rt, { stem: st.stem, width: st.width, inChannels: 1, numClasses: K }, 0);
      const sd = new Map<string, HostTensor>();
      for (const { name, tensor } of init.namedTensors()) sd.set(name, { shape: [...tensor.shape], data: await tensor.toArray() });
      init.dispose();
      const initial = CHECK.map((n) => sd.get(n)!.data);
      const pack = (loss: number, after: Float32Array[]) => {
        const parts = [Float32Array.of(loss), ...after.map((a, i) => a.map((v, j) => v - initial[i]![j]!))];
        const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        let off = 0;
        for (const p of parts) { out.set(p, off); off += p.length; }
        return out;
      };
      const stepsPerSample = 1;
      const imgs = (ms: number) => (B * stepsPerSample) / (ms / 1000);
      let torchParams: string | null = null;
      const cr = await runCase(
        st.name, null, 0,
        async () => {
          const model = new ResNet18(rt, { stem: st.stem, width: st.width, inChannels: 1, numClasses: K }, 0);
          const opt = new Adam(model.parameters(), { lr });
          let firstLoss = NaN;
          const batch = (): AugmentedBatch => ({
            x: rt.upload(xs), weights: Float32Array.from(weights), labels: Int32Array.from(labels),
            inSubset: new Uint8Array(B), params: {} as AugmentedBatch['params'],
          });
          const extra: Record<string, unknown> = {};
          const run = async () => {
            const stats = await rt.step(() => scope(() => trainStep(model, opt, augmentedInputs(rt, batch(), S, K))));
            if (Number.isNaN(firstLoss)) firstLoss = stats.loss;
            extra.poolPeakBytes = Math.max(Number(extra.poolPeakBytes ?? 0), rt.pool.stats().bytesAllocated);
            extra.rssPeakBytes = Math.max(Number(extra.rssPeakBytes ?? 0), rss());
          };
          return {
            run,
            // Steps 2–4: the step plan is packed, created and first touched (see Prepared.settle).
            settle: async () => {
              for (let i = 0; i < 3; i++) await run();
            },
            output: async () => {
              const named = new Map(model.namedTensors().map((t) => [t.name, t.tensor]));
              return pack(firstLoss, await Promise.all(CHECK.map((n) => named.get(n)!.toArray())));
            },
            dispose: () => { opt.dispose(); model.dispose(); },
            extra,
          };
        },
        async (p) => {
          if (p === 'gpujs') return RELEVANT_SKIP.gpujs!;
          if (p === 'tfjs-wasm') return NO_WASM_FILTER;
          const tooLong = estimateTooLong(p, st.stem);
          if (tooLong) return tooLong;
          if (p === 'tfjs-cpu' && st.width > 8) return `${CPU_FILTER_SLOW}; a width-64 step would take tens of minutes`;
          if (p === 'tfjs-cpu' && o.quick) return 'quick suite: a tfjs-cpu width-8 step takes ~35 s here (the full suite runs it)';
          const tfl = await import('@tensorflow/tfjs-layers');
          const model = buildTfResNet18(tf, tfl, { stem: st.stem, width: st.width, numClasses: K, size: S }, sd);
          const tx = tf.transpose(tf.tensor4d(xs, [B, 1, S, S]), [0, 2, 3, 1]);
          const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), K);
          const tw = tf.tensor1d(weights);
          const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
          const vars = model.trainableWeights.map((w: Tf) => w.read());
          let firstLoss = NaN;
          const extra: Record<string, unknown> = {};
          return {
            run: async () => {
              const cost = opt.minimize(() => {
                const logits = model.apply(tx, { training: true });
                const ce = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1));
                return tf.mean(tf.mul(ce, tw));
              }, true, vars);
              const l = (await cost.data())[0];
              cost.dispose();
              if (Number.isNaN(firstLoss)) firstLoss = l;
              const m = tf.memory();
              extra.tfMemory = { numBytes: m.numBytes, numTensors: m.numTensors, numBytesInGPU: m.numBytesInGPU, numBytesAllocatedInGPU: m.numBytesAllocatedInGPU };
              extra.rssPeakBytes = Math.max(Number(extra.rssPeakBytes ?? 0), rss());
            },
            output: async () => {
              const after = await Promise.all(CHECK.map(async (n) => {
                const v = tfParam(model, n);
                return toTorchLayout(await v.data(), v.shape);
              }));
              return pack(firstLoss, after);
            },
            dispose: () => { tf.dispose([tx, onehot, tw]); opt.dispose(); model.dispose?.(); },
            extra,
          };
        },
        {
          samples: o.quick ? samples : Math.min(samples, 3),
          slowSamples: 2,
          compare: stepCompare(lr),
          torch: async (ref, ms) => {
            const layout = [...sd.entries()].map(([n, t]) => [n, t.shape] as const);
            torchParams ??= torch!.file(Float32Array.from(layout.flatMap(([n]) => [...sd.get(n)!.data])));
            return torchResult(
              { op: 'train', stem: st.stem, width: st.width, classes: K, batch: B, size: S, params: torchParams, layout, x: torch!.file(xs), labels, weights, lr, check: CHECK, samples: o.quick ? samples : Math.min(samples, 3) },
              ref, 0, null, ms,
              (r) => pack(r.loss!, CHECK.map((n) => Float32Array.from(r.check![n]!))),
              stepCompare(lr),
            );
          },
        },
      );
      if (cr && st.width === 64 && st.stem === 'imagenet') {
        tvStepMs.set('wgml', cr.wgml.ms);
        for (const p of PEERS) {
          const e = cr[p];
          if (e && !('skipped' in e)) tvStepMs.set(p, e.ms);
        }
      }
      if (cr) {
        for (const e of [cr.wgml, ...PEERS.map((p) => cr[p])]) if (e && 'ms' in e && Number.isFinite(e.ms)) (e as Record<string, unknown>).imagesPerSec = imgs(e.ms);
        writeReport(result, base);
      }
    }
  };

  const inferenceCases = async (): Promise<void> => {
    // ---- inference and GradCAM (eval mode), torchvision stem ----
    {
      const width = o.quick ? 8 : 64;
      const name = `inference, torchvision stem, width ${width}`;
      const init = new ResNet18(rt, { stem: 'imagenet', width, inChannels: 1, numClasses: K }, 0);
      const sd = new Map<string, HostTensor>();
      for (const { name: n, tensor } of init.namedTensors()) sd.set(n, { shape: [...tensor.shape], data: await tensor.toArray() });
      init.eval();
      const X = Tensor.fromArray(rt, xs, [B, 1, S, S], 'bench.x').keep();
      const imgs = (ms: number) => B / (ms / 1000);
      const cr = await runCase(
        name, null, 1e-3,
        async () => {
          let logits: Float32Array = new Float32Array(0);
          return {
            run: async () => { logits = await scope(async () => (await noGrad(() => init.forward(X))).toArray()); },
            output: async () => logits,
          };
        },
        async (p) => {
          if (p === 'gpujs') return RELEVANT_SKIP.gpujs!;
          const tfl = await import('@tensorflow/tfjs-layers');
          const model = buildTfResNet18(tf, tfl, { stem: 'imagenet', width, numClasses: K, size: S }, sd);
          const tx = tf.transpose(tf.tensor4d(xs, [B, 1, S, S]), [0, 2, 3, 1]);
          let y: Tf = null;
          return {
            run: async () => { y?.dispose(); y = model.predict(tx); await y.data(); },
            output: async () => y.data(),
            dispose: () => { tf.dispose([tx, y]); model.dispose?.(); },
          };
        },
        {
          torch: async (ref, ms) => {
            const layout = [...sd.entries()].map(([n, t]) => [n, t.shape] as const);
            const params = torch!.file(Float32Array.from(layout.flatMap(([n]) => [...sd.get(n)!.data])));
            return torchResult({ op: 'infer', stem: 'imagenet', width, classes: K, batch: B, size: S, params, layout, x: torch!.file(xs) }, ref, 1e-3, null, ms);
          },
        },
      );
      const gname = `GradCAM, torchvision stem, width ${width}`;
      const gc = await runCase(
        gname, null, 0,
        async () => ({
          run: async () => { await scope(async () => { await gradCamBatch(init, X, 'pred'); await rt.finish(); }); },
        }),
        async () => 'GradCAM is not written for the peers in this bench (wgml only)',
        { torch: async () => ({ skipped: 'GradCAM is not written for the peers in this bench (wgml only)' }) },
      );
      for (const c of [cr, gc]) {
        if (!c) continue;
        for (const e of [c.wgml, ...PEERS.map((p) => c[p])]) if (e && 'ms' in e && Number.isFinite(e.ms)) (e as Record<string, unknown>).imagesPerSec = imgs(e.ms);
      }
      writeReport(result, base);
      X.dispose();
      init.dispose();
    }
  };

  const augmentCases = async (): Promise<void> => {
    const name = `augmentation + BackMix, batch ${B} at ${S}²`;
    if (!want(name)) return;
    const setup = augmentCase(rt, B, S);
    const corrCompare: Compare = (a, ref) => {
      const r = correlation(a, ref);
      return { ok: r >= 0.9, detail: `correlation ${r.toFixed(4)} with wgml's output (need ≥ 0.9: bilinear vs OpenCV bicubic)`, agree: { correlation: r } };
    };
    const cr = await runCase(
      name, null, 0,
      async () => setup.wgml(),
      async (p) => (p === 'gpujs' ? RELEVANT_SKIP.gpujs! : setup.tf(tf)),
      { compare: corrCompare, torch: async () => ({ skipped: 'the reference pipeline is albumentations/OpenCV, not PyTorch ops; not written for this bench' }) },
    );
    if (cr) {
      for (const e of [cr.wgml, ...PEERS.map((p) => cr[p])]) if (e && 'ms' in e && Number.isFinite(e.ms)) (e as Record<string, unknown>).imagesPerSec = B / (e.ms / 1000);
      writeReport(result, base);
    }
  };

  // The training steps first: they are the headline, and a run cut short keeps them.
  await stepCases();
  await inferenceCases();
  await augmentCases();
  await matmulCases();
  await bnPoolCases();
  await convCases();

  process.removeListener('SIGTERM', onStop);
  process.removeListener('SIGINT', onStop);
  result.meta.finished = new Date().toISOString();
  writeReport(result, base);
  try {
    await renderChart(result, base);
  } catch (e) {
    log(`chart not rendered: ${(e as Error).message}`);
  }
  peers.torch?.close();
  rt.destroy();
  log(`\nwrote ${base}.json, ${base}.md, ${base}.vl.json, ${base}.svg`);
  return result;
}

function toHwio(w: Float32Array, s: Conv2dShape): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < s.Co; o++) for (let i = 0; i < s.Ci; i++) for (let h = 0; h < s.KH; h++) for (let k = 0; k < s.KW; k++) out[((h * s.KW + k) * s.Ci + i) * s.Co + o] = w[((o * s.Ci + i) * s.KH + h) * s.KW + k]!;
  return out;
}
function fromHwio(w: Float32Array, s: Conv2dShape): Float32Array {
  return toTorchLayout(w, [s.KH, s.KW, s.Ci, s.Co]);
}
