// The engines `wgml bench` compares wgml with. Every peer is a devDependency loaded here by
// dynamic import (the engine never loads one) and each is optional: a peer that cannot load
// becomes a skip reason in the results, never a crash.
//   tfjs-webgpu  TensorFlow.js 4.22 on the same Dawn adapter wgml picked (navigator.gpu from the
//                `webgpu` package, created with wgml's own ICD/adapter choice: listAdapters + pickListing)
//   tfjs-wasm    TensorFlow.js WebAssembly backend (SIMD; threads only where the runtime offers them)
//   tfjs-cpu     TensorFlow.js plain-JS backend
//   gpujs        gpu.js 2.24 (matmul only); in Node without headless-gl it runs in WebAssembly mode
//   torch-cpu    PyTorch through /usr/bin/python3 (scripts/torch/bench_peer.py), every core
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { create } from 'webgpu';
import { listAdapters, pickListing, type AdapterChoice } from '../kernels/device.js';

export const PEERS = ['tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'gpujs', 'torch-cpu'] as const;
export type PeerName = (typeof PEERS)[number];
export const TF_BACKEND: Record<string, string> = { 'tfjs-webgpu': 'webgpu', 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu' };

// TensorFlow.js's types are not needed by the engine's build; the bench treats the modules as `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

export interface Peers {
  tf?: Tf;
  /** Backends that initialised, by peer name. */
  tfBackends: Set<PeerName>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  gpujs?: any;
  torch?: TorchPeer;
  /** Why a requested peer is unavailable. */
  unavailable: Partial<Record<PeerName, string>>;
  /** Facts for the report (versions, modes, threads). */
  notes: Partial<Record<PeerName, string>>;
}

function msg(e: unknown): string {
  return (e as Error)?.message?.split('\n')[0] ?? String(e);
}

/** navigator.gpu for TF.js: a Dawn instance on the adapter wgml itself would open for `choice`. */
async function installNavigatorGpu(choice: AdapterChoice): Promise<string> {
  const pick = pickListing(await listAdapters(), choice);
  if (!pick) throw new Error(`no '${choice}' adapter for TF.js`);
  const gpu = create([`backend=${pick.backend}`, `adapter=${pick.name}`]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return `${pick.name} [${pick.backend}]`;
}

export async function loadPeers(want: readonly PeerName[], choice: AdapterChoice, log: (s: string) => void): Promise<Peers> {
  const p: Peers = { tfBackends: new Set(), unavailable: {}, notes: {} };
  const wantTf = want.filter((w) => w in TF_BACKEND);
  if (wantTf.length) {
    try {
      if (want.includes('tfjs-webgpu')) p.notes['tfjs-webgpu'] = `adapter ${await installNavigatorGpu(choice)}`;
      p.tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-layers'); // registers the gradients the layers API needs
      await import('@tensorflow/tfjs-backend-cpu');
      p.tf.env().set('IS_TEST', false);
      for (const w of wantTf) {
        const backend = TF_BACKEND[w]!;
        try {
          if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
          if (backend === 'wasm') {
            const wasm = await import('@tensorflow/tfjs-backend-wasm');
            const dir = join(dirname(fileURLToPath(import.meta.resolve('@tensorflow/tfjs-backend-wasm'))), '..', 'dist') + '/';
            wasm.setWasmPaths(dir);
          }
          if (!(await p.tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') returned false`);
          await p.tf.ready();
          p.tfBackends.add(w);
          if (backend === 'wasm') {
            const threads = await p.tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
            const simd = await p.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
            p.notes[w] = `SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off (Node offers the threaded build no workers here)'}`;
          }
          if (backend === 'cpu') p.notes[w] = 'plain JavaScript kernels, one thread';
        } catch (e) {
          p.unavailable[w] = `backend failed to start: ${msg(e)}`;
        }
      }
      p.notes['tfjs-webgpu'] = `TF.js ${p.tf.version_core}; ${p.notes['tfjs-webgpu'] ?? ''}`;
    } catch (e) {
      for (const w of wantTf) p.unavailable[w] = `TensorFlow.js not installed or failed to load: ${msg(e)}`;
    }
  }
  if (want.includes('gpujs')) {
    try {
      const { GPU } = await import('gpu.js');
      const g = new GPU();
      p.gpujs = g;
      p.notes.gpujs = `gpu.js mode '${g.mode}' (no WebGL in Node without headless-gl, and its WebGPU mode is browser-only: this is its CPU/WebAssembly path, not a GPU)`;
    } catch (e) {
      p.unavailable.gpujs = `gpu.js failed to load: ${msg(e)}`;
    }
  }
  if (want.includes('torch-cpu')) {
    try {
      p.torch = await TorchPeer.start();
      p.notes['torch-cpu'] = p.torch.banner;
    } catch (e) {
      p.unavailable['torch-cpu'] = msg(e);
    }
  }
  for (const [k, v] of Object.entries(p.unavailable)) log(`peer ${k}: skipped (${v})`);
  for (const [k, v] of Object.entries(p.notes)) if (!(k in p.unavailable)) log(`peer ${k}: ${v}`);
  return p;
}

export async function setTfBackend(p: Peers, peer: PeerName): Promise<void> {
  const b = TF_BACKEND[peer]!;
  if (p.tf.getBackend() !== b) await p.tf.setBackend(b);
}

export interface TorchResult {
  ok: boolean;
  error?: string;
  ms: number;
  first_ms: number;
  samples: number;
  loss?: number;
  check?: Record<string, number[]>;
  rss_peak_bytes?: number;
}

/** A long-lived `python3 scripts/torch/bench_peer.py`; requests go one at a time. */
export class TorchPeer {
  readonly dir = mkdtempSync(join(tmpdir(), 'wgml-bench-'));
  private n = 0;

  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly banner: string,
  ) {}

  static async start(python = process.env.WGML_BENCH_PYTHON ?? '/usr/bin/python3'): Promise<TorchPeer> {
    const here = dirname(fileURLToPath(import.meta.url));
    const script = join(here, '..', '..', 'scripts', 'torch', 'bench_peer.py');
    if (!existsSync(python)) throw new Error(`${python} not found`);
    if (!existsSync(script)) throw new Error(`${script} not found`);
    const proc = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => (err += String(d)));
    const rl = createInterface({ input: proc.stdout });
    const it = rl[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) {
      throw new Error(`PyTorch unavailable: ${err.trim().split('\n').pop() ?? 'python exited'} (install python3-torch)`);
    }
    const b = JSON.parse(first.value) as { torch: string; threads: number; mkldnn: boolean };
    return new TorchPeer(proc, it, `PyTorch ${b.torch} CPU, ${b.threads} threads, oneDNN ${b.mkldnn ? 'on' : 'off'}`);
  }

  /** Writes a f32 array for the peer to read; returns its path. */
  file(data: Float32Array, tag = 'in'): string {
    const path = join(this.dir, `${tag}-${this.n++}.f32`);
    writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return path;
  }

  outPath(): string {
    return join(this.dir, `out-${this.n++}.f32`);
  }

  read(path: string): Float32Array {
    const b = readFileSync(path);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }

  async call(req: Record<string, unknown>): Promise<TorchResult> {
    this.proc.stdin.write(JSON.stringify(req) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error('PyTorch peer exited');
    return JSON.parse(r.value) as TorchResult;
  }

  close(): void {
    this.proc.stdin.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
