// The grids of `wgml experiment`: the paper's three, grid files, and the resolved cell configs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedGrid, TABLE1_METHODS } from '../../src/experiment/grid.js';
import { readGridFile } from '../../src/experiment/grid_file.js';
import { resolveGrid, configHash, protocolConfig } from '../../src/experiment/protocol.js';
import { aggregate } from '../../src/experiment/report.js';
import type { CellResult } from '../../src/experiment/cell.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'wgml-grid-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('named grids', () => {
  it("table1: the paper's 7 treatments plus a real blur, every seed, unique cell ids", () => {
    const g = namedGrid('table1', [0, 1, 2]);
    expect(g.groups.map((x) => x.name)).toEqual([...TABLE1_METHODS]);
    expect(g.cells).toHaveLength(24);
    expect(new Set(g.cells.map((c) => c.id)).size).toBe(24);
    expect(g.cells.find((c) => c.id === 'bokeh-blur-seed2')!.options).toEqual({ method: 'bokeh-blur', fraction: 1, lambda: 0, seed: 2 });
  });

  it('table2: the baseline, BackMix at six fractions, wBackMix at f = 0.05 with λ = 1 and 2', () => {
    const g = namedGrid('table2', [0]);
    expect(g.groups.map((x) => x.name)).toEqual([
      'none', 'backmix f=1', 'backmix f=0.5', 'backmix f=0.2', 'backmix f=0.1', 'backmix f=0.05', 'backmix f=0.01', 'wbackmix f=0.05 λ=1', 'wbackmix f=0.05 λ=2',
    ]);
    expect(g.cells.map((c) => c.id)).toContain('wbackmix-f-0.05-lambda-2-seed0');
    expect(g.groups.at(-1)!.options).toMatchObject({ method: 'backmix', fraction: 0.05, lambda: 2 });
  });

  it('ablation: five disjoint 5% subsets (offsets 0..4) with one seed, whatever --seeds says', () => {
    const g = namedGrid('ablation', [4, 5, 6]);
    expect(g.cells.map((c) => [c.options.maskOffset, c.seed])).toEqual([[0, 4], [1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(g.cells.every((c) => c.options.fraction === 0.05 && c.options.maskSubset === 'stride')).toBe(true);
  });
});

describe('resolved cells', () => {
  it('protocol, then data, then the cell: each cell trains in <dir>/cells/<id>; the hash ignores the directory', () => {
    const g = namedGrid('table2', [0, 1]);
    const cells = resolveGrid(g, { protocol: 'quick', dir: join(root, 'e') });
    const c = cells.find((x) => x.id === 'backmix-f-0.2-seed1')!;
    expect(c.config).toMatchObject({ ...protocolConfig('quick'), method: 'backmix', fraction: 0.2, seed: 1, out: join(root, 'e', 'cells', c.id) });
    expect(c.config.valWindow).toBe(3);
    const moved = resolveGrid(g, { protocol: 'quick', dir: join(root, 'elsewhere') }).find((x) => x.id === c.id)!;
    expect(moved.hash).toBe(c.hash);
    expect(configHash({ ...c.config, epochs: 13 })).not.toBe(c.hash);
    expect(resolveGrid(g, { protocol: 'full', dir: root })[0]!.config).toMatchObject({ stem: 'cifar', width: 64, epochs: 100, batch: 64 });
  });
});

describe('grid files', () => {
  it('every combination of the listed options is a group; seeds, base and wbackmix as `wgml train` takes them', () => {
    const f = join(root, 'sweep.yaml');
    writeFileSync(f, 'seeds: [3, 4]\nbase:\n  epochs: 2\n  model-width: 4\ngrid:\n  method: [none, wbackmix]\n  lr: [0.001, 0.003]\n');
    const g = readGridFile(f, [0]);
    expect(g.name).toBe('sweep');
    expect(g.groups.map((x) => x.name)).toEqual(['method=none lr=0.001', 'method=none lr=0.003', 'method=wbackmix lr=0.001', 'method=wbackmix lr=0.003']);
    expect(g.groups[2]!.options).toEqual({ epochs: 2, width: 4, method: 'backmix', lambda: 1, lr: 0.001 });
    expect(g.seeds).toEqual([3, 4]);
    expect(g.cells).toHaveLength(8);
  });

  it('lists every problem of a bad file at once', () => {
    const f = join(root, 'bad.yaml');
    writeFileSync(f, 'colour: red\nseeds: [1, -2]\ngrid:\n  method: [none, mixup]\n  epochs: []\n  depth: [3]\n');
    let msg = '';
    try {
      readGridFile(f, [0]);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`${f}: 3 problem(s)`);
    expect(msg).toContain("unknown key 'colour'");
    expect(msg).toContain('seeds: expected a list of non-negative integers');
    expect(msg).toContain('grid.epochs: expected a non-empty list of values');
  });

  it('bad option values are reported for every cell, each named, before anything runs', () => {
    const f = join(root, 'lr.yaml');
    writeFileSync(f, 'grid:\n  lr: [0.001, -1, 0]\n');
    expect(() => resolveGrid(readGridFile(f, [0, 1]), { protocol: 'quick', dir: root })).toThrow(
      /4 cell\(s\) with bad options\n {2}1-seed0 \(group '-1'\): --lr: expected > 0, got -1\n {2}1-seed1 .*\n {2}0-seed0 .*\n {2}0-seed1 /,
    );
  });
});

describe('aggregation', () => {
  const split = (name: string, accuracy: number, percentE: number | null) => ({
    split: name, n: 10, accuracy, macroPrecision: accuracy, macroRecall: accuracy, macroF1: accuracy, percentE, percentF: percentE,
  });
  const result = (id: string, group: string, seed: number, ood: number, e: number | null): CellResult => ({
    id, group, seed, hash: 'h', seconds: 1, epochs: 1, bestEpoch: 1, bestValAcc: 0.5, finishedAt: '',
    splits: [split('test', 0.9, 60), split('ood-test', ood, e)],
  });

  it('mean ± sample std in percent per group; %E only when every seed has it; the median seed; missing cells listed', () => {
    const g = namedGrid('table1', [0, 1, 2]);
    const results = [
      result('none-seed0', 'none', 0, 0.7, 50), result('none-seed1', 'none', 1, 0.8, 70), result('none-seed2', 'none', 2, 0.6, null),
      result('backmix-seed0', 'backmix', 0, 0.9, 80), result('backmix-seed2', 'backmix', 2, 0.8, 84),
    ];
    const groups = aggregate(g, results);
    const none = groups.find((x) => x.group === 'none')!;
    expect(none.ood!.accuracy!.mean).toBeCloseTo(70, 12);
    expect(none.ood!.accuracy!.std).toBeCloseTo(10, 12);
    expect(none.ood!.percentE).toBeNull();
    expect(none.medianCell).toBe('none-seed0');
    const bm = groups.find((x) => x.group === 'backmix')!;
    expect(bm.missing).toEqual(['backmix-seed1']);
    expect(bm.ood!.percentE).toEqual({ mean: 82, std: Math.sqrt(8), n: 2 });
    expect(groups.find((x) => x.group === 'noise')!.ood).toBeNull();
  });
});
