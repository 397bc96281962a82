// The shape of a 2-D convolution and what follows from it alone: output size, FLOPs, the
// checks every conv launcher runs on its arguments.
import type { BufferLike } from './encoder.js';

/** x: [N,Ci,H,W], w: [Co,Ci,KH,KW], y: [N,Co,Ho,Wo]. `pad` is symmetric: one value or [padH, padW]. */
export interface Conv2dShape {
  N: number;
  Ci: number;
  H: number;
  W: number;
  Co: number;
  KH: number;
  KW: number;
  stride: number;
  pad: number | readonly [number, number];
}

export interface Conv2dGradOptions {
  /** Add into the gradient buffer(s) instead of overwriting them (residual branches sum gradients). */
  accumulate?: boolean;
}

export function conv2dPads(s: Conv2dShape): [number, number] {
  return typeof s.pad === 'number' ? [s.pad, s.pad] : [s.pad[0], s.pad[1]];
}

/** Output size: Ho = floor((H + 2·padH − KH)/stride) + 1, likewise Wo. */
export function conv2dOutputSize(s: Conv2dShape): { Ho: number; Wo: number } {
  const [ph, pw] = conv2dPads(s);
  return {
    Ho: Math.floor((s.H + 2 * ph - s.KH) / s.stride) + 1,
    Wo: Math.floor((s.W + 2 * pw - s.KW) / s.stride) + 1,
  };
}

/** Multiply-adds ×2 of one forward pass (the backward passes cost the same each). */
export function conv2dFlops(s: Conv2dShape): number {
  const { Ho, Wo } = conv2dOutputSize(s);
  return 2 * s.N * s.Co * Ho * Wo * s.Ci * s.KH * s.KW;
}

export function describe(s: Conv2dShape): string {
  const [ph, pw] = conv2dPads(s);
  return `N=${s.N} Ci=${s.Ci} H=${s.H} W=${s.W} Co=${s.Co} K=${s.KH}x${s.KW} stride=${s.stride} pad=${ph === pw ? ph : `${ph},${pw}`}`;
}

export function validate(op: string, s: Conv2dShape): { Ho: number; Wo: number; ph: number; pw: number } {
  for (const k of ['N', 'Ci', 'H', 'W', 'Co', 'KH', 'KW', 'stride'] as const) {
    const v = s[k];
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${op}: ${k} must be a positive integer, got ${v} (${describe(s)})`);
  }
  const [ph, pw] = conv2dPads(s);
  for (const [k, v] of [['padH', ph], ['padW', pw]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${op}: ${k} must be a non-negative integer, got ${v}`);
  }
  const { Ho, Wo } = conv2dOutputSize(s);
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`${op}: kernel ${s.KH}x${s.KW} does not fit the padded ${s.H + 2 * ph}x${s.W + 2 * pw} input (${describe(s)})`);
  }
  return { Ho, Wo, ph, pw };
}

function floatsIn(b: BufferLike): number {
  return Math.floor(('bytes' in b ? b.bytes : b.size) / 4);
}

export function checkSize(op: string, name: string, b: BufferLike, dims: number[], s: Conv2dShape): void {
  const need = dims.reduce((a, d) => a * d, 1);
  const have = floatsIn(b);
  if (have < need) {
    throw new RangeError(`${op}: ${name} holds ${have} floats but [${dims.join(',')}] needs ${need} (${describe(s)})`);
  }
}
