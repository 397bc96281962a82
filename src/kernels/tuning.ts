// Per-adapter kernel shapes. Software drivers want big per-invocation register tiles (each
// storage load is a per-lane loop on lavapipe); NVIDIA wants smaller tiles and more threads.
// Numbers come from bench/ runs recorded in docs/DECISIONS.md.
import type { AdapterKind } from './icd.js';

export interface MatmulTiling {
  TM: number;
  TN: number;
  WG_X: number;
  WG_Y: number;
}

const MATMUL: Record<AdapterKind, MatmulTiling> = {
  // vec4 path (matmul.wgsl main_vec4), 512³ on 2 busy vCPUs, same runs: SwiftShader 16×16
  // 1.9 GFLOP/s (8×8: 1.1, 8×16: 1.0). lavapipe 16×16 runs 4.8–6.4 but its LLVM JIT takes
  // minutes per specialisation (the linear tests timed out), so lavapipe keeps 8×8 (1.3–2).
  swiftshader: { TM: 16, TN: 16, WG_X: 8, WG_Y: 8 },
  lavapipe: { TM: 8, TN: 8, WG_X: 8, WG_Y: 8 },
  gpu: { TM: 4, TN: 4, WG_X: 16, WG_Y: 16 },
};

export function matmulTiling(kind: AdapterKind, env: NodeJS.ProcessEnv = process.env): MatmulTiling {
  const base = { ...MATMUL[kind] };
  // WGML_MATMUL_TILE=TMxTN lets bench/ sweep shapes without editing code.
  const m = /^(\d+)x(\d+)$/.exec(env.WGML_MATMUL_TILE ?? '');
  if (m) {
    base.TM = Number(m[1]);
    base.TN = Number(m[2]);
  }
  for (const [name, v] of [['TM', base.TM], ['TN', base.TN]] as const) {
    if (v % 4 !== 0 || v < 4 || v > 16) throw new Error(`matmul ${name} must be 4, 8, 12 or 16, got ${v}`);
  }
  return base;
}

/** Threads per workgroup for 1-D elementwise kernels: 16 hurts SwiftShader, 64–256 is flat. */
export const ELEMENTWISE_WG = 128;
