// How big each training of a grid is. `full` is the paper's protocol (CIFAR-stem ResNet18,
// width 64, 112², Adam 1e-3, batch 64, 100 epochs), for GPUs. `quick` is the synthetic CPU
// default of `wgml train` (torchvision stem, width 8, 12 epochs, batch 32, Adam 3e-3), sized so
// Table 1 (8 methods × 3 seeds) fits in about an hour on a 2-core machine with lavapipe; its
// best checkpoint is chosen by the mean validation accuracy of 3 consecutive epochs, because the
// synthetic validation split (132 frames) moves several points from one epoch to the next.
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { PAPER_DEFAULTS, SYNTHETIC_CPU_DEFAULTS, validateConfig, type TrainConfig } from '../train/config.js';
import type { Cell, Grid, CellOptions } from './grid.js';

export type Protocol = 'quick' | 'full';
export const PROTOCOLS: readonly Protocol[] = ['quick', 'full'];

export function protocolConfig(p: Protocol): Omit<TrainConfig, 'out'> {
  if (p === 'full') return { ...PAPER_DEFAULTS };
  return { ...PAPER_DEFAULTS, ...SYNTHETIC_CPU_DEFAULTS, valWindow: 3 };
}

export interface ResolveOptions {
  protocol: Protocol;
  /** The experiment directory: cell c trains in <dir>/cells/<c.id>. */
  dir: string;
  data?: string;
  ood?: string;
  /** Options every cell takes over its own (the command line's, e.g. --epochs). */
  override?: CellOptions;
}

export interface ResolvedCell extends Cell {
  config: TrainConfig;
  /** Hash of the resolved config without `out`: a finished cell is reused only while it matches. */
  hash: string;
}

export function configHash(c: TrainConfig): string {
  const { out: _out, ...rest } = c;
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/**
 * Every cell's full training config. Bad options are reported for all cells at once, each
 * named, before anything runs.
 */
export function resolveGrid(grid: Grid, o: ResolveOptions): ResolvedCell[] {
  const dir = resolve(o.dir);
  const problems: string[] = [];
  const cells: ResolvedCell[] = [];
  for (const cell of grid.cells) {
    const config: TrainConfig = {
      ...protocolConfig(o.protocol),
      ...(o.data ? { data: resolve(o.data) } : {}),
      ...(o.ood ? { ood: resolve(o.ood) } : {}),
      ...cell.options,
      ...o.override,
      out: join(dir, 'cells', cell.id),
    };
    try {
      validateConfig(config);
    } catch (e) {
      problems.push(`  ${cell.id} (group '${cell.group}'): ${(e as Error).message}`);
      continue;
    }
    cells.push({ ...cell, config, hash: configHash(config) });
  }
  if (problems.length) throw new Error(`grid '${grid.name}': ${problems.length} cell(s) with bad options\n${problems.join('\n')}`);
  return cells;
}
