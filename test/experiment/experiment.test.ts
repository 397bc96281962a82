// `wgml experiment` end to end on a tiny grid (48 frames at 32², width 2, 1–2 epochs): cells in
// child processes, results reused on a second run, a failing cell recorded while the others
// finish, an interrupted cell resumed from its epoch checkpoint, and the report's files.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../src/data/index.js';
import { runExperiment } from '../../src/experiment/experiment.js';
import { readGridFile } from '../../src/experiment/grid_file.js';
import { resolveGrid } from '../../src/experiment/protocol.js';
import { runCell, CellInterrupted } from '../../src/experiment/cell.js';
import { runGrid } from '../../src/experiment/runner.js';
import type { ExperimentReport } from '../../src/experiment/report.js';

const adapter = process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER;
// Child processes compile their own pipelines: generous on a loaded 2-core software GPU.
const SLOW = 300_000;

let root: string;
let data: string;

function gridFile(name: string, body: string, epochs = 1): string {
  const f = join(root, `${name}.yaml`);
  writeFileSync(f, `base:\n  epochs: ${epochs}\n  image-size: 32\n  model-width: 2\n  batch: 8\n  stem: cifar\n${body}`);
  return f;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wgml-experiment-'));
  data = join(root, 'synth');
  await synthesize({ out: data, n: 48, seed: 4, size: 32 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('wgml experiment', () => {
  it('trains every cell once with 2 jobs and writes the report; a second run recomputes nothing', async () => {
    const f = gridFile('two', `  data: ${data}\nseeds: [0, 1]\ngrid:\n  method: [none, backmix]\n`);
    const out = join(root, 'two');
    const r1 = await runExperiment({ grid: f, out, jobs: 2, adapter });
    const ids = ['backmix-seed0', 'backmix-seed1', 'none-seed0', 'none-seed1'];
    expect([...r1.run!.finished].sort()).toEqual(ids);
    expect(r1.run!.failed).toEqual([]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ExperimentReport;
    expect(report.finished).toBe(4);
    expect(report.oodSplit).toBe('ood-test');
    expect(report.groups.map((g) => [g.group, g.seeds])).toEqual([['none', [0, 1]], ['backmix', [0, 1]]]);
    for (const g of report.groups) {
      expect(g.ood!.accuracy!.n).toBe(2);
      expect(g.ood!.accuracy!.mean).toBeGreaterThanOrEqual(0);
      expect(existsSync(join(out, g.gradcamSheet!)), g.group).toBe(true);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^\| none \| \d+\.\d ± \d+\.\d \|/m);
    expect(md).toContain('![ood_by_group.png](ood_by_group.png)');
    expect(existsSync(join(out, 'ood_by_group.png'))).toBe(true);

    const mtimes = ids.map((id) => statSync(join(out, 'cells', id, 'cell.json')).mtimeMs);
    const r2 = await runExperiment({ grid: f, out, jobs: 2, adapter, gradcam: false });
    expect([...r2.run!.reused].sort()).toEqual(ids);
    expect(r2.run!.finished).toEqual([]);
    expect(ids.map((id) => statSync(join(out, 'cells', id, 'cell.json')).mtimeMs)).toEqual(mtimes);

    // Another experiment with a group of the same config takes those cells over with --reuse.
    const g = gridFile('baseline', `  data: ${data}\nname: baseline\nseeds: [0, 1]\ngrid:\n  method: [none]\n`);
    const other = join(root, 'baseline');
    const r3 = await runExperiment({ grid: g, out: other, reuse: out, adapter, gradcam: false });
    expect(r3.adopted).toEqual(['none-seed0', 'none-seed1']);
    expect(r3.run!.finished).toEqual([]);
    for (const id of ['none-seed0', 'none-seed1']) {
      const mine = JSON.parse(readFileSync(join(other, 'cells', id, 'cell.json'), 'utf8')) as { reusedFrom: string; splits: unknown; hash: string };
      const theirs = JSON.parse(readFileSync(join(out, 'cells', id, 'cell.json'), 'utf8')) as { splits: unknown; hash: string };
      expect(mine.reusedFrom).toBe(join(out, 'cells', id));
      expect([mine.splits, mine.hash]).toEqual([theirs.splits, theirs.hash]);
      expect(readFileSync(join(other, 'cells', id, 'best.safetensors')).equals(readFileSync(join(out, 'cells', id, 'best.safetensors')))).toBe(true);
    }
    expect(readFileSync(join(other, 'report.md'), 'utf8')).toContain(`¹ Not trained in this experiment: the finished cell with the same config (hash) in ${out} (\`--reuse\`): none-seed0 ← none-seed0, none-seed1 ← none-seed1.`);
  }, SLOW);

  it('a failing cell is recorded with its error; the other cells finish and the report says what is missing', async () => {
    const missing = join(root, 'nowhere', 'manifest.csv');
    const f = gridFile('fail', `seeds: [0]\ngrid:\n  data: [${data}, ${missing}]\n`);
    const out = join(root, 'fail');
    const r = await runExperiment({ grid: f, out, jobs: 1, adapter, gradcam: false });
    expect(r.run!.finished).toHaveLength(1);
    expect(r.run!.failed).toHaveLength(1);
    const failed = r.run!.failed[0]!;
    expect(failed.message).toContain(missing);
    const err = JSON.parse(readFileSync(join(out, 'cells', failed.id, 'error.json'), 'utf8')) as { message: string };
    expect(err.message).toContain(missing);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`Not finished (failed or not run; see each cell's error.json): ${failed.id}`);
  }, SLOW);

  it('an interrupted cell resumes from its last epoch checkpoint in the next run', async () => {
    const f = gridFile('resume', `  data: ${data}\nseeds: [0]\ngrid:\n  method: [none]\n`, 2);
    const cells = resolveGrid(readGridFile(f, [0]), { protocol: 'quick', dir: join(root, 'resume') });
    let stop = false;
    // Stop requested when epoch 1 ends: the run stops after the first step of epoch 2.
    await expect(runCell(cells[0]!, { onEpochEnd: () => (stop = true), shouldStop: () => stop }, { adapter })).rejects.toThrow(CellInterrupted);
    expect(existsSync(join(cells[0]!.config.out, 'cell.json'))).toBe(false);
    const logs: string[] = [];
    const s = await runGrid(cells, { adapter, onLog: (m) => logs.push(m) });
    expect(s.finished).toEqual([cells[0]!.id]);
    expect(logs.some((l) => l.startsWith(`${cells[0]!.id}: resumed from`) && l.includes('after epoch 1'))).toBe(true);
    const epochs = readFileSync(join(cells[0]!.config.out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    expect(epochs).toEqual([1, 2]);
  }, SLOW);

  it('refuses a second runner on the same directory while the first is alive', async () => {
    const out = join(root, 'locked');
    const f = gridFile('lock', `  data: ${data}\nseeds: [0]\ngrid:\n  method: [none]\n`);
    // The lock of a live process (this one's parent stands in): refused, naming the pid.
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.lock'), String(process.ppid));
    await expect(runExperiment({ grid: f, out, adapter, gradcam: false })).rejects.toThrow(`in use by another wgml experiment (pid ${process.ppid})`);
    rmSync(join(out, '.lock'));
  });
});
