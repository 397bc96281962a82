// The grids `wgml experiment` runs: the paper's Table 1 (background treatments), Table 2 (the
// supervised fraction f and wBackMix's λ), the ablation over disjoint masked subsets, or any
// grid of train options from a file. A grid is a list of cells; a cell is one training run —
// a group (a row of the report) and a seed — with the train options that differ from the protocol.
import type { TrainConfig } from '../train/config.js';
import type { Method } from '../backmix/methods.js';

export type GridName = 'table1' | 'table2' | 'ablation';
export const GRID_NAMES: readonly GridName[] = ['table1', 'table2', 'ablation'];

/** Train options a cell may set (everything but where its run directory is). */
export type CellOptions = Partial<Omit<TrainConfig, 'out'>>;

export interface Group {
  /** Row name in the report, e.g. 'backmix', 'f=0.05', 'wbackmix f=0.05 λ=2', 'subset 3'. */
  name: string;
  options: CellOptions;
}

export interface Cell {
  /** Directory-safe and unique within the grid: the group's slug and the seed. */
  id: string;
  group: string;
  seed: number;
  options: CellOptions;
}

export interface Grid {
  name: string;
  groups: Group[];
  seeds: number[];
  cells: Cell[];
}

/** Table 1's background treatments, in the paper's row order (SMA is not implemented). */
export const TABLE1_METHODS: readonly Method[] = ['none', 'black', 'noise', 'shuffle', 'bokeh', 'bokeh-blur', 'cutmix', 'backmix'];
/** Table 2's supervised fractions. */
export const TABLE2_FRACTIONS = [1, 0.5, 0.2, 0.1, 0.05, 0.01] as const;
/** The ablation: f = 0.05 has int(1/f) = 20 disjoint subsets; the paper ran five of them. */
export const ABLATION_FRACTION = 0.05;
export const ABLATION_SUBSETS = 5;

export function slug(name: string): string {
  return name
    .replace(/λ/g, 'lambda')
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

export function gridFromGroups(name: string, groups: Group[], seeds: number[]): Grid {
  if (groups.length === 0) throw new Error(`grid '${name}': no groups`);
  if (seeds.length === 0) throw new Error(`grid '${name}': no seeds`);
  const names = new Set<string>();
  const slugs = new Set<string>();
  for (const g of groups) {
    if (names.has(g.name)) throw new Error(`grid '${name}': group '${g.name}' appears twice`);
    if (slugs.has(slug(g.name))) throw new Error(`grid '${name}': groups '${g.name}' and another share the directory name '${slug(g.name)}'`);
    names.add(g.name);
    slugs.add(slug(g.name));
  }
  for (const s of seeds) if (!Number.isInteger(s) || s < 0) throw new Error(`grid '${name}': seed ${s} is not a non-negative integer`);
  const cells = groups.flatMap((g) => seeds.map((seed) => ({ id: `${slug(g.name)}-seed${seed}`, group: g.name, seed, options: { ...g.options, seed } })));
  return { name, groups, seeds, cells };
}

/** The named grids of the paper, for `seeds` (the ablation keeps one seed, as the paper did). */
export function namedGrid(name: GridName, seeds: number[]): Grid {
  switch (name) {
    case 'table1':
      return gridFromGroups(name, TABLE1_METHODS.map((method) => ({ name: method, options: { method, fraction: 1, lambda: 0 } })), seeds);
    case 'table2':
      return gridFromGroups(
        name,
        [
          { name: 'none', options: { method: 'none', fraction: 1, lambda: 0 } },
          ...TABLE2_FRACTIONS.map((f) => ({ name: `backmix f=${f}`, options: { method: 'backmix' as const, fraction: f, lambda: 0 } })),
          ...[1, 2].map((l) => ({ name: `wbackmix f=0.05 λ=${l}`, options: { method: 'backmix' as const, fraction: 0.05, lambda: l } })),
        ],
        seeds,
      );
    case 'ablation':
      // The paper: five runs at f = 0.05 with one fixed seed and non-overlapping supervised samples.
      return gridFromGroups(
        name,
        Array.from({ length: ABLATION_SUBSETS }, (_, k) => ({
          name: `subset ${k}`,
          options: { method: 'backmix' as const, fraction: ABLATION_FRACTION, lambda: 0, maskSubset: 'stride' as const, maskOffset: k },
        })),
        seeds.slice(0, 1),
      );
  }
}
