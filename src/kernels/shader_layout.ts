// A shader's interface as TypeScript sees it — its uniform struct, the binding number of each
// resource variable, and its module-scope constants — read from the WGSL itself. Each layout
// fact is written once, in the shader; launchers pass uniforms and buffers by the names the
// shader declares, and host code that fills or reads GPU buffers (the augmentation sample,
// method ids, where a stats buffer keeps each total) reads offsets and flags as constants. See
// docs/DECISIONS.md ("Layouts are read from the WGSL").
import { loadShaderSource, SHADER_DIR } from './pipelines.js';

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface ParamField {
  name: string;
  type: ScalarType;
}

export interface ShaderLayout {
  file: string;
  /**
   * Fields of each `var<uniform>` struct at @binding(0), in memory order. A file whose entry
   * points each use their own uniform (conv2d_prep.wgsl) has several; values pick theirs.
   */
  uniforms: ParamField[][];
  /** Binding number of each `@group(0) @binding(n) var … name` (two names may share a number). */
  bindings: Map<string, number>;
  /** Module-scope `const NAME: u32|i32|f32 = <literal>;` declarations. */
  consts: Map<string, number>;
}

/** Values of a uniform struct by field name; `_pad…` fields may be left out (they are zero). */
export type ParamValues = Record<string, number | boolean>;

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

function literal(text: string, type: ScalarType): number | null {
  const t = text.trim();
  const int = /^(-?)(0[xX][0-9a-fA-F]+|\d+)[iu]?$/.exec(t);
  if (int && type !== 'f32') return (int[1] ? -1 : 1) * Number(int[2]);
  const float = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?f?$/.exec(t);
  if (float && type === 'f32') return Number(t.replace(/f$/, ''));
  return null;
}

/** Parses the declarations TypeScript relies on; `file` names the shader in errors. */
export function parseShaderLayout(source: string, file: string): ShaderLayout {
  const src = stripComments(source);
  const bindings = new Map<string, number>();
  const uniformTypes: string[] = [];
  for (const m of src.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var(<[^>]*>)?\s+(\w+)\s*:\s*([\w<>, ]+?)\s*;/g)) {
    bindings.set(m[3]!, Number(m[1]));
    if (m[2]?.includes('uniform')) {
      if (m[1] !== '0') throw new Error(`${file}: the uniform must be @binding(0)`);
      uniformTypes.push(m[4]!);
    }
  }
  const uniforms = uniformTypes.map((type) => {
    const body = new RegExp(`struct\\s+${type}\\s*\\{([^}]*)\\}`).exec(src);
    if (!body) throw new Error(`${file}: no struct ${type} for the uniform`);
    return body[1]!.split(',').map((f) => f.trim()).filter(Boolean).map((f) => {
      const m = /^(\w+)\s*:\s*(\w+)$/.exec(f);
      if (!m || !['u32', 'i32', 'f32'].includes(m[2]!)) {
        throw new Error(`${file}: uniform field '${f}' is not a u32, i32 or f32 (the packer handles 4-byte scalars only)`);
      }
      return { name: m[1]!, type: m[2] as ScalarType };
    });
  });
  const consts = new Map<string, number>();
  for (const m of src.matchAll(/^[ \t]*const\s+(\w+)\s*:\s*(u32|i32|f32)\s*=\s*([^;]+);/gm)) {
    const v = literal(m[3]!, m[2] as ScalarType);
    if (v !== null) consts.set(m[1]!, v);
  }
  return { file, uniforms, bindings, consts };
}

const hostLayouts = new Map<string, ShaderLayout>();

/** The layout of a file in shaders/ (includes expanded), for host code outside a dispatch. */
export function shaderLayout(file: string): ShaderLayout {
  let l = hostLayouts.get(file);
  if (!l) {
    l = parseShaderLayout(loadShaderSource(file, SHADER_DIR), file);
    hostLayouts.set(file, l);
  }
  return l;
}

/** A module-scope constant of a shader; throws when the shader does not declare it. */
export function shaderConst(file: string, name: string): number {
  const v = shaderLayout(file).consts.get(name);
  if (v === undefined) throw new Error(`${file}: no constant ${name} with a literal value`);
  return v;
}

/** Why `values` do not fill `fields` exactly (every field but `_…` padding, no other name), or null. */
function mismatch(fields: ParamField[], values: ParamValues): string | null {
  const known = new Set(fields.map((f) => f.name));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length) return `no uniform field ${unknown.join(', ')}`;
  const missing = fields.filter((f) => !f.name.startsWith('_') && values[f.name] === undefined).map((f) => f.name);
  return missing.length ? `uniform field ${missing.join(', ')} not given` : null;
}

/**
 * The bytes of the uniform struct from values by field name. Every field but `_…` padding must
 * be given, and no other name: a renamed or added field fails here rather than shifting the
 * rest. Integer fields take −2³¹ … 2³²−1 (negative values and u32 values share the bits).
 */
export function packParams(layout: ShaderLayout, values: ParamValues, label: string): ArrayBuffer {
  const fits = layout.uniforms.filter((u) => mismatch(u, values) === null);
  if (fits.length !== 1) {
    const why = layout.uniforms.length === 1 ? mismatch(layout.uniforms[0]!, values) : `${fits.length} of ${layout.uniforms.length} uniform structs match the fields given`;
    throw new Error(`${label}: ${layout.file}: ${why ?? 'declares no uniform'}`);
  }
  const fields = fits[0]!;
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  fields.forEach((f, i) => {
    const raw = values[f.name];
    if (raw === undefined) return;
    const v = Number(raw);
    if (f.type === 'f32') {
      f32[i] = v;
    } else {
      if (!Number.isInteger(v) || v > 0xffffffff || v < -0x80000000) throw new RangeError(`${label}: ${f.name} = ${v} is not a 32-bit integer`);
      i32[i] = v | 0;
    }
  });
  return buf;
}
