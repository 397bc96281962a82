// The grid queue against a real Redis server (Debian's redis-server, started here on a free port)
// and real `wgml worker` processes: idempotent enqueueing, two workers finishing every cell once,
// a worker killed mid-cell whose cell another worker finishes from its checkpoint, workers
// without the experiment directory (results through Redis), failures, and bad URLs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../src/data/index.js';
import { runExperiment } from '../../src/experiment/experiment.js';
import { parseRedisUrl } from '../../src/queue/redis_url.js';
import { openQueue } from '../../src/queue/queue_client.js';
import { cellJobId } from '../../src/queue/cell_job.js';
import type { ExperimentReport } from '../../src/experiment/report.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ADAPTER = process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER;
const SLOW = 300_000;

let root: string;
let data: string;
let redis: ChildProcess;
let url: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  p: ChildProcess;
  stdout: () => string;
  exit: Promise<number | null>;
}

/** `wgml args…` as its own process, from source. */
function wgml(args: string[]): Proc {
  const env = { ...process.env, CI: '1', ...(ADAPTER ? { WGML_ADAPTER: ADAPTER } : {}) };
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return { p, stdout: () => out, exit };
}

function gridFile(name: string, body: string, epochs = 1): string {
  const f = join(root, `${name}.yaml`);
  writeFileSync(f, `base:\n  epochs: ${epochs}\n  image-size: 32\n  model-width: 2\n  batch: 8\n  stem: cifar\n${body}`);
  return f;
}

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const which = spawnSync('sh', ['-c', 'command -v redis-server']);
  if (which.status !== 0) throw new Error('redis-server is not installed: the queue tests need a real Redis (apt-get install redis-server; scripts/setup.sh installs it)');
  root = mkdtempSync(join(tmpdir(), 'wgml-queue-'));
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root], { stdio: 'ignore' });
  url = `redis://127.0.0.1:${port}/0`;
  const t0 = Date.now();
  for (;;) {
    try {
      const q = await openQueue(url);
      await q.close();
      break;
    } catch (e) {
      if (Date.now() - t0 > 10_000) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  data = join(root, 'synth');
  await synthesize({ out: data, n: 48, seed: 4, size: 32 });
});

afterAll(() => {
  redis?.kill('SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('wgml experiment --queue and wgml worker', () => {
  it('rejects bad Redis URLs with one clear error each', async () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow("--queue: 'localhost:6379' has scheme 'localhost'; expected redis://");
    expect(() => parseRedisUrl('http://h:6379')).toThrow("has scheme 'http'");
    expect(() => parseRedisUrl('redis://h:0')).toThrow('port must be 1–65535');
    expect(() => parseRedisUrl('redis://h:6379/queue')).toThrow("the path must be a database number (/0, /1, …), got '/queue'");
    expect(parseRedisUrl('redis://u:secret@h:7000/2')).toEqual({ display: 'redis://u:***@h:7000/2', options: { host: 'h', port: 7000, db: 2, username: 'u', password: 'secret' } });
    const closed = await freePort();
    await expect(openQueue(`redis://127.0.0.1:${closed}`)).rejects.toThrow(new RegExp(`^cannot use the queue at redis://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
    const w = wgml(['worker', '--queue', 'http://nowhere']);
    expect(await w.exit).toBe(1);
    expect(w.stdout()).toContain("--queue: 'http://nowhere' has scheme 'http'");
  }, SLOW);

  it('enqueues a grid once however often it is enqueued; two workers finish every cell once; --collect writes the report', async () => {
    const f = gridFile('two', `  data: ${data}\nseeds: [0, 1]\ngrid:\n  method: [none, backmix]\n`);
    const out = join(root, 'two');
    const first = await runExperiment({ grid: f, out, queue: url });
    const ids = ['backmix-seed0', 'backmix-seed1', 'none-seed0', 'none-seed1'];
    expect([...first.queued!.added].sort()).toEqual(ids);
    const again = await runExperiment({ grid: f, out, queue: url });
    expect(again.queued).toEqual({ added: [], present: first.queued!.added, retried: [] });
    const before = await runExperiment({ grid: f, out, queue: url, status: true });
    expect(before.status!.counts).toMatchObject({ waiting: 4, active: 0, done: 0, failed: 0 });

    const workers = [0, 1].map(() => wgml(['worker', '--queue', url, '--exit-when-done']));
    expect(await Promise.all(workers.map((w) => w.exit))).toEqual([0, 0]);
    const logs = workers.map((w) => w.stdout()).join('\n');
    for (const cell of first.cells) {
      const id = cellJobId(cell, out);
      expect(logs.split('\n').filter((l) => l.includes(` start ${id} `)), id).toHaveLength(1);
      expect(logs.split('\n').filter((l) => l.includes(` done ${id}:`)), id).toHaveLength(1);
    }
    const after = await runExperiment({ grid: f, out, queue: url, status: true });
    expect(after.status!.counts).toMatchObject({ waiting: 0, active: 0, done: 4, failed: 0 });
    expect(after.status!.etaSeconds).toBe(0);

    const c = await runExperiment({ grid: f, out, queue: url, collect: true, gradcam: false });
    // The workers saw the experiment directory (shared storage): the results are already in place.
    expect([...c.collected!.local].sort()).toEqual(ids);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ExperimentReport;
    expect(report.finished).toBe(4);
    expect(report.groups.map((g) => [g.group, g.seeds])).toEqual([['none', [0, 1]], ['backmix', [0, 1]]]);
  }, SLOW);

  it('a worker killed mid-cell: another worker takes the cell over and finishes it from its last epoch checkpoint', async () => {
    const f = gridFile('kill', `  data: ${data}\nseeds: [0]\ngrid:\n  method: [backmix]\n`, 30);
    const out = join(root, 'kill');
    const q = await runExperiment({ grid: f, out, queue: url });
    const cell = q.cells[0]!;
    const a = wgml(['worker', '--queue', url, '--stalled-after', '2']);
    await until('the first epoch checkpoint', () => existsSync(join(cell.config.out, 'last.safetensors')));
    a.p.kill('SIGKILL');
    await a.exit;
    expect(existsSync(join(cell.config.out, 'cell.json'))).toBe(false);

    const b = wgml(['worker', '--queue', url, '--stalled-after', '2', '--exit-when-done']);
    expect(await b.exit).toBe(0);
    const log = b.stdout();
    expect(log).toMatch(/ start \S+ \(try \d+, taken over after 1 stall\(s\)\) .*, resuming from its last epoch checkpoint/);
    expect(log).toMatch(/resumed from .* after epoch \d+/);
    const result = JSON.parse(readFileSync(join(cell.config.out, 'cell.json'), 'utf8')) as { hash: string; epochs: number };
    expect(result.hash).toBe(cell.hash);
    // Every epoch once in the metrics: the epochs redone after the take-over replaced their lines.
    const epochs = readFileSync(join(cell.config.out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    expect(epochs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  }, SLOW);

  it('Ctrl-C on a worker returns its running cell to the queue with its checkpoint', async () => {
    const f = gridFile('interrupt', `  data: ${data}\nseeds: [0]\ngrid:\n  method: [none]\n`, 30);
    const out = join(root, 'interrupt');
    const q = await runExperiment({ grid: f, out, queue: url });
    const cell = q.cells[0]!;
    const w = wgml(['worker', '--queue', url]);
    await until('the first epoch checkpoint', () => existsSync(join(cell.config.out, 'last.safetensors')));
    w.p.kill('SIGINT');
    expect(await w.exit).toBe(130);
    expect(w.stdout()).toContain('back in the queue, its last epoch checkpoint kept');
    expect(w.stdout()).toMatch(/closed: 0 cell\(s\) finished, 0 failed, 1 returned to the queue/);
    const s = await runExperiment({ grid: f, out, queue: url, status: true });
    expect(s.status!.counts).toMatchObject({ waiting: 1, active: 0, done: 0, failed: 0 });
    expect(existsSync(join(cell.config.out, 'last.safetensors'))).toBe(true);
    // Not left for the next test's workers.
    const open = await openQueue(url);
    await (await open.queue.getJob(cellJobId(cell, out)))!.remove();
    await open.close();
  }, SLOW);

  it('workers without the experiment directory send results through Redis; a cell that keeps failing is reported with its error', async () => {
    const missing = join(root, 'nowhere', 'manifest.csv');
    const f = gridFile('remote', `seeds: [0]\ngrid:\n  data: [${data}, ${missing}]\n`);
    const out = join(root, 'remote');
    const q = await runExperiment({ grid: f, out, queue: url, attempts: 1 });
    expect(q.queued!.added).toHaveLength(2);
    const w = wgml(['worker', '--queue', url, '--work-dir', join(root, 'elsewhere'), '--exit-when-done']);
    expect(await w.exit).toBe(0);
    const good = q.cells.find((c) => c.config.data === data)!;
    const bad = q.cells.find((c) => c.config.data === missing)!;
    expect(existsSync(join(good.config.out, 'best.safetensors'))).toBe(false);

    const c = await runExperiment({ grid: f, out, queue: url, collect: true, gradcam: false });
    expect(c.collected!.fetched).toEqual([good.id]);
    const trained = join(root, 'elsewhere', cellJobId(good, out), 'cells', good.id);
    expect(readFileSync(join(good.config.out, 'best.safetensors')).equals(readFileSync(join(trained, 'best.safetensors')))).toBe(true);
    expect(JSON.parse(readFileSync(join(good.config.out, 'cell.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(trained, 'cell.json'), 'utf8')));
    expect(c.collected!.failed).toEqual([{ id: bad.id, message: expect.stringContaining(`dataset ${missing} is not on this worker`) }]);
    expect(c.collected!.failed[0]!.message).toContain('(after 1 tries)');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`Failed: ${bad.id}: ${bad.id}: dataset ${missing} is not on this worker`);
    const status = await runExperiment({ grid: f, out, queue: url, status: true });
    expect(status.status!.counts).toMatchObject({ done: 1, failed: 1 });
  }, SLOW);
});
