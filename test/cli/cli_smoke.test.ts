// `wgml` as a user runs it: a fresh process from source (node --import tsx src/cli/main.ts).
// Few spawns on purpose: each pays node + tsx start-up, and `train`/`predict` open a device and
// compile their pipelines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, splitIndices, synthesize, CANONICAL_CLASSES } from '../../src/data/index.js';
import type { Prediction } from '../../src/train/api.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ADAPTER = process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wgml args…` to completion (async, so the test worker stays responsive). */
function wgml(args: string[], timeoutMs = 110_000): Promise<Run> {
  const env = { ...process.env, CI: '1', ...(ADAPTER ? { WGML_ADAPTER: ADAPTER } : {}) };
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let root: string;
let data: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wgml-cli-'));
  data = join(root, 'synth');
  await synthesize({ out: data, n: 48, seed: 4, size: 32 });
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('wgml CLI (spawned)', () => {
  it('train → summary table, exit 0; predict --json parses; eval of a missing checkpoint exits 1 naming it; a bad dataset lists every record and names --skip-bad', async () => {
    const out = join(root, 'run');
    const train = await wgml([
      'train', '--data', data, '--epochs', '1', '--image-size', '32', '--model-width', '2', '--batch', '8', '--stem', 'cifar', '--out', out,
    ]);
    expect(train.code, train.stderr).toBe(0);
    // Progress and logs go to stderr (one line per epoch without a terminal); the summary to stdout.
    expect(train.stderr).toMatch(/^epoch 1: train loss \d+\.\d+ acc \d+\.\d%/m);
    const lines = train.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^trained 1 epoch\(s\) in [\d.]+ s \([\d.]+ images\/s\); best val acc [\d.]+% at epoch 1$/);
    expect(lines[1]).toContain(join(out, 'best.safetensors'));
    const header = lines.findIndex((l) => /^split\s+n\s+accuracy\s+macro-F1\s+%E\s+%F$/.test(l));
    expect(header, train.stdout).toBeGreaterThan(0);
    const rows = lines.slice(header + 1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(['test', 'ood-test']);
    for (const r of rows) {
      expect(r).toHaveLength(6);
      expect(Number(r[1])).toBeGreaterThan(0);
      for (const v of r.slice(2)) expect(v, r.join(' ')).toMatch(/^(\d+\.\d%|–)$/);
    }
    for (const f of ['best.safetensors', 'last.safetensors', 'metrics.jsonl', 'results.json']) expect(existsSync(join(out, f)), f).toBe(true);

    const ds = await loadDataset(data, { size: 32 });
    const files = splitIndices(ds, 'test').slice(0, 2).map((i) => ds.samples[i]!.file);
    const pred = await wgml(['predict', '--checkpoint', join(out, 'best.safetensors'), '--image-size', '32', '--json', ...files]);
    expect(pred.code, pred.stderr).toBe(0);
    const preds = JSON.parse(pred.stdout) as Prediction[];
    expect(preds.map((p) => p.file)).toEqual(files);
    for (const p of preds) {
      expect(CANONICAL_CLASSES).toContain(p.view);
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }

    const missing = join(root, 'missing.safetensors');
    const ev = await wgml(['eval', '--checkpoint', missing, '--data', data]);
    expect(ev.code).toBe(1);
    expect(ev.stderr).toContain(`wgml: checkpoint not found: ${missing}`);
    expect(ev.stdout).toBe('');

    // Every bad record at once (a missing image and an unknown label), and the CLI's own flag named.
    const bad = join(root, 'bad.csv');
    writeFileSync(bad, `image,label,split\nnope.png,A4C,test\n${files[0]},A3C,test\n`);
    const evBad = await wgml(['eval', '--checkpoint', join(out, 'best.safetensors'), '--data', bad, '--image-size', '32']);
    expect(evBad.code).toBe(1);
    expect(evBad.stderr).toContain('bad records (2 problems)');
    expect(evBad.stderr).toContain('wgml: --skip-bad leaves these records out and lists them');
  });

  it('a bad option value exits 1 before touching data or the GPU', async () => {
    const r = await wgml(['train', '--fraction', '0', '--out', join(root, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wgml: --fraction: expected 0 < f ≤ 1, got 0');
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
