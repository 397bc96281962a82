// Loads WGSL from shaders/, expands `#include "file.wgsl"`, and caches compute pipelines by
// file:entry:constants. Specialisation goes through WGSL `override` constants so one shader
// source serves SwiftShader and an H100 with different tile shapes. Sizes of function-scope
// arrays (register tiles) cannot be overrides in WGSL, so those are `const` declarations
// marked `// @specialize`, rewritten per pipeline (see docs/DECISIONS.md). What TypeScript
// needs to know of a shader's interface it reads from the same source (shader_layout.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** shaders/ sits two levels above both src/kernels and dist/kernels. */
export const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

export type Constants = Record<string, number | boolean>;

/**
 * Rewrites `const NAME: T = v; // @specialize` lines. Names not marked are left alone so a
 * typo in a launcher fails loudly instead of silently using the default.
 */
export function specialize(source: string, defines: Constants, file = 'shader'): string {
  const used = new Set<string>();
  const out = source.replace(
    /^([ \t]*const\s+(\w+)\s*:\s*(\w+)\s*=\s*)([^;]+)(;\s*\/\/\s*@specialize.*)$/gm,
    (line, head: string, name: string, type: string, _v: string, tail: string) => {
      if (!(name in defines)) return line;
      used.add(name);
      const v = Number(defines[name]);
      const lit = type === 'f32' ? `${v}f` : type === 'i32' ? `${Math.trunc(v)}i` : type === 'bool' ? `${v !== 0}` : `${Math.trunc(v)}u`;
      return `${head}${lit}${tail}`;
    },
  );
  const unknown = Object.keys(defines).filter((k) => !used.has(k));
  if (unknown.length) throw new Error(`${file}: no '// @specialize' const named ${unknown.join(', ')}`);
  return out;
}

const sourceCache = new Map<string, string>();

/** Reads a shader and inlines its includes (each file at most once, so diamonds are fine). */
export function loadShaderSource(file: string, dir = SHADER_DIR): string {
  const cached = sourceCache.get(file);
  if (cached !== undefined) return cached;
  const seen = new Set<string>();
  const expand = (name: string, from: string): string => {
    if (seen.has(name)) return '';
    seen.add(name);
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      throw new Error(`shader '${name}' not found in ${dir}${from ? ` (included from ${from})` : ''}`);
    }
    return text.replace(/^[ \t]*#include\s+"([^"]+)"[ \t]*$/gm, (_, inc: string) => expand(inc, name));
  };
  const source = expand(file, '');
  sourceCache.set(file, source);
  return source;
}

function constantsKey(constants: Constants): string {
  return Object.keys(constants)
    .sort()
    .map((k) => `${k}=${Number(constants[k])}`)
    .join(',');
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice, private readonly dir = SHADER_DIR) {}

  /** A shader's text with its includes expanded, before specialisation. */
  source(file: string): string {
    return loadShaderSource(file, this.dir);
  }

  module(file: string, defines: Constants = {}): GPUShaderModule {
    const key = `${file}#${constantsKey(defines)}`;
    let m = this.modules.get(key);
    if (!m) {
      const code = specialize(loadShaderSource(file, this.dir), defines, file);
      m = this.device.createShaderModule({ code, label: key });
      this.modules.set(key, m);
    }
    return m;
  }

  /**
   * The pipeline for `entry` in `file`, specialised by `constants` (WGSL overrides) and
   * `defines` (`// @specialize` consts).
   */
  get(file: string, entry: string, constants: Constants = {}, defines: Constants = {}): GPUComputePipeline {
    const key = `${file}:${entry}:${constantsKey(constants)}#${constantsKey(defines)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const numeric: Record<string, number> = {};
      for (const [k, v] of Object.entries(constants)) numeric[k] = Number(v);
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(file, defines), entryPoint: entry, constants: numeric },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Compilation messages for a shader (used to turn WGSL errors into readable ones). */
  async diagnostics(file: string, defines: Constants = {}): Promise<string[]> {
    const info = await this.module(file, defines).getCompilationInfo();
    return info.messages
      .filter((m) => m.type === 'error')
      .map((m) => `${file}:${m.lineNum}:${m.linePos}: ${m.message}`);
  }

  get size(): number {
    return this.pipelines.size;
  }
}
