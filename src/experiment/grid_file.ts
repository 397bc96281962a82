// A grid from a YAML (or JSON) file: train options applied to every cell, the options to vary
// (every combination becomes a group), and the seeds.
//
//   name: lr-sweep          # optional; default: the file name
//   seeds: [0, 1, 2]        # optional; default: the --seeds count
//   base:                   # optional: train options for every cell (as `wgml train` spells them)
//     epochs: 6
//   grid:                   # required: option → list of values
//     method: [none, backmix]
//     lr: [0.001, 0.003]
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configFields } from '../train/config.js';
import { parseMethod } from '../backmix/methods.js';
import { gridFromGroups, type CellOptions, type Grid, type Group } from './grid.js';

const TOP_KEYS = new Set(['name', 'seeds', 'base', 'grid']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Method names as `wgml train` takes them: 'wbackmix' is BackMix with λ = 1 unless λ is given. */
function normaliseMethod(path: string, o: Record<string, unknown>): CellOptions {
  const fields = configFields(path, o) as CellOptions & { method?: string };
  if (fields.method === undefined) return fields;
  const m = String(fields.method);
  if (m.toLowerCase() === 'wbackmix') return { ...fields, method: 'backmix', lambda: fields.lambda ?? 1 };
  return { ...fields, method: parseMethod(m) };
}

function label(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function readGridFile(path: string, defaultSeeds: number[]): Grid {
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  if (!isRecord(doc)) throw new Error(`${path}: expected a mapping with keys name, seeds, base, grid`);
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) problems.push(`unknown key '${k}'; expected name, seeds, base, grid`);
  const name = doc.name === undefined ? basename(path, extname(path)) : String(doc.name);
  let seeds = defaultSeeds;
  if (doc.seeds !== undefined) {
    if (Array.isArray(doc.seeds) && doc.seeds.every((s) => Number.isInteger(s) && (s as number) >= 0)) seeds = doc.seeds as number[];
    else problems.push(`seeds: expected a list of non-negative integers, got ${JSON.stringify(doc.seeds)}`);
  }
  let base: CellOptions = {};
  if (doc.base !== undefined) {
    if (!isRecord(doc.base)) problems.push('base: expected a mapping of train options');
    else {
      try {
        base = normaliseMethod(`${path}: base`, doc.base);
      } catch (e) {
        problems.push((e as Error).message.replace(`${path}: `, ''));
      }
    }
  }
  const axes: [string, unknown[]][] = [];
  if (!isRecord(doc.grid) || Object.keys(doc.grid).length === 0) problems.push('grid: expected a mapping of option → list of values');
  else {
    for (const [k, v] of Object.entries(doc.grid)) {
      if (!Array.isArray(v) || v.length === 0) problems.push(`grid.${k}: expected a non-empty list of values`);
      else axes.push([k, v]);
    }
  }
  if (problems.length) throw new Error(`${path}: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);

  // Every combination, the first axis varying slowest.
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  const groups: Group[] = [];
  for (const c of combos) {
    const groupName = Object.entries(c).map(([k, v]) => (axes.length === 1 ? label(v) : `${k}=${label(v)}`)).join(' ');
    try {
      groups.push({ name: groupName, options: { ...base, ...normaliseMethod(`${path}: grid`, c) } });
    } catch (e) {
      problems.push((e as Error).message.replace(`${path}: `, ''));
    }
  }
  if (problems.length) throw new Error(`${path}: ${problems.length} problem(s)\n${[...new Set(problems)].map((p) => `  ${p}`).join('\n')}`);
  return gridFromGroups(name, groups, seeds);
}
