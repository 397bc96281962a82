// The layouts TypeScript reads from the WGSL (src/kernels/shader_layout.ts): host-only checks
// of the parser and the uniform packer, and of the constants the launchers take from shaders.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packParams, parseShaderLayout, shaderConst, shaderLayout } from '../../src/kernels/shader_layout.js';
import { SHADER_DIR } from '../../src/kernels/pipelines.js';
import { METHODS, METHOD_ID } from '../../src/backmix/methods.js';
import { sampleStride, FLAG_FLIP, FLAG_MASKED, FLAG_HAS_MASK, FLAG_CUTMIX, NO_SLOT } from '../../src/backmix/augment_params.js';

const SRC = `
struct Params {
  n: u32,
  off: i32,
  // a comment, with a comma
  scale: f32,
  _pad0: u32,
  count: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> table: array<vec4<i32>>;
const A: u32 = 7u;
const B: u32 = 0xffffffffu;
const C: f32 = -1.5;
const D: i32 = -3i;
const E: u32 = A + 1u; // not a literal: not read
`;

describe('parseShaderLayout', () => {
  const l = parseShaderLayout(SRC, 'test.wgsl');

  it('reads the uniform struct, binding numbers and literal constants', () => {
    expect(l.uniforms).toEqual([[
      { name: 'n', type: 'u32' }, { name: 'off', type: 'i32' }, { name: 'scale', type: 'f32' },
      { name: '_pad0', type: 'u32' }, { name: 'count', type: 'u32' },
    ]]);
    expect(Object.fromEntries(l.bindings)).toEqual({ p: 0, xs: 1, x4: 1, table: 2 });
    expect(Object.fromEntries(l.consts)).toEqual({ A: 7, B: 0xffffffff, C: -1.5, D: -3 });
  });

  it('packs by field name into the struct order, padding to 16 bytes', () => {
    const buf = packParams(l, { n: 3, off: -2, scale: 0.1, count: 0xfffffffe }, 'op');
    expect(buf.byteLength).toBe(32);
    expect(Array.from(new Int32Array(buf, 0, 2))).toEqual([3, -2]);
    expect(new Float32Array(buf)[2]).toBe(Math.fround(0.1));
    expect(new Uint32Array(buf)[3]).toBe(0);
    expect(new Uint32Array(buf)[4]).toBe(0xfffffffe);
  });

  it('rejects a missing field, an unknown one and integers out of 32-bit range', () => {
    expect(() => packParams(l, { n: 1, off: 0, scale: 0 }, 'op')).toThrow(/count not given/);
    expect(() => packParams(l, { n: 1, off: 0, scale: 0, count: 1, extra: 2 }, 'op')).toThrow(/no uniform field extra/);
    expect(() => packParams(l, { n: 2 ** 32, off: 0, scale: 0, count: 1 }, 'op')).toThrow(/is not a 32-bit integer/);
    expect(() => packParams(l, { n: 1.5, off: 0, scale: 0, count: 1 }, 'op')).toThrow(/is not a 32-bit integer/);
  });

  it('picks, among several uniforms, the one whose fields are given (conv2d_prep.wgsl)', () => {
    const prep = shaderLayout('conv2d_prep.wgsl');
    expect(prep.uniforms.length).toBe(4);
    const buf = packParams(prep, { nW: 1, nB: 2, chunks: 3, stride: 4, cols: 5, rowLen: 6, bias0: 7, biasStep: 8 }, 'reduce');
    expect(Array.from(new Uint32Array(buf))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => packParams(prep, { n: 1, nW: 1 }, 'x')).toThrow(/0 of 4 uniform structs match/);
  });

  it('refuses a uniform field that is not a 4-byte scalar', () => {
    expect(() => parseShaderLayout('struct P { v: vec2f }\n@group(0) @binding(0) var<uniform> p: P;', 'bad.wgsl')).toThrow(/not a u32, i32 or f32/);
  });
});

describe('the shaders', () => {
  const files = readdirSync(SHADER_DIR).filter((f) => f.endsWith('.wgsl') && readFileSync(join(SHADER_DIR, f), 'utf8').includes('@compute'));

  it.each(files)('%s: its layout parses (includes expanded)', (file) => {
    const l = shaderLayout(file);
    expect(l.bindings.size).toBeGreaterThan(0);
  });

  it('every augmentation method has an id in augment.wgsl, all distinct', () => {
    for (const m of METHODS) expect(Number.isInteger(METHOD_ID[m])).toBe(true);
    expect(new Set(METHODS.map((m) => METHOD_ID[m])).size).toBe(METHODS.length);
    expect(METHOD_ID.none).toBe(shaderConst('augment.wgsl', 'M_NONE'));
    expect(METHOD_ID['bokeh-blur']).toBe(shaderConst('augment.wgsl', 'M_BOKEH_BLUR'));
  });

  it('the packed sample follows augment_sample.wgsl', () => {
    const c = (n: string) => shaderConst('augment_sample.wgsl', n);
    expect(sampleStride(17)).toBe(c('H_WORDS') + c('WARP_TABLES') * 17 + c('LUT_WORDS'));
    expect([FLAG_FLIP, FLAG_MASKED, FLAG_HAS_MASK, FLAG_CUTMIX, NO_SLOT]).toEqual(
      [c('F_FLIP'), c('F_MASKED'), c('F_HAS_MASK'), c('F_CUTMIX'), c('NO_SLOT')],
    );
    // The LUT (64 words of 4 u8) must fit after the header and the warp tables.
    expect(c('LUT_WORDS') * 4).toBe(256);
  });
});
