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
  swiftshader: { TM: 8, TN: 8, WG_X: 8, WG_Y: 8 },
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
  if (base.TN % 4 !== 0) throw new Error(`matmul TN must be a multiple of 4, got ${base.TN}`);
  return base;
}

/** Threads per workgroup for 1-D elementwise kernels: 16 hurts SwiftShader, 64–256 is flat. */
export const ELEMENTWISE_WG = 128;
