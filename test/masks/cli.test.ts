// `wgml masks` as a user runs it (a spawned process from source): the summary on stdout,
// progress on stderr, files in --out; a malformed option is one clear error and exit 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, writePng, writeText } from '../data/fixtures.js';
import { drawText, S, sectorFrame } from './frames.js';

const ROOT = join(import.meta.dirname, '..', '..');

function wgml(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await makeTempDir('masks-cli');
  const lines = ['image,label,split'];
  for (let k = 0; k < 3; k++) {
    const { frame } = sectorFrame({ kind: 'fan', apexX: 56, apexY: 5, thetaLeft: -0.65, thetaRight: 0.65, radius: 90, innerRadius: 0 }, 20 + k);
    drawText(frame, 2, 2, 3, 6, k);
    await writePng(join(tmp.dir, 'data', `f${k}.png`), S, S, frame);
    lines.push(`f${k}.png,PLAX,train`);
  }
  await writePng(join(tmp.dir, 'data', 'black.png'), S, S, new Uint8Array(S * S));
  lines.push('black.png,A4C,train');
  await writeText(join(tmp.dir, 'data', 'manifest.csv'), lines.join('\n') + '\n');
});
afterAll(async () => {
  await tmp.cleanup();
});

describe('wgml masks (spawned)', () => {
  it('writes masks, manifest, report and preview, and says how many frames were left unmasked', async () => {
    const out = join(tmp.dir, 'out');
    const r = await wgml(['masks', '--data', join(tmp.dir, 'data'), '--out', out, '--preview', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^4 frames: 3 masked automatically \(0 from their group's consensus\), 0 kept their own mask, 1 left without a mask/m);
    expect(r.stderr).toMatch(/masks fit 4\/4/);
    for (const f of ['manifest.csv', 'masks.csv', 'masks.json', 'preview.png', 'preview.csv', 'masks/f0.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'masks/black.png'))).toBe(false);
  });

  it('--min-confidence outside [0, 1] and an unknown --method are errors naming the option', async () => {
    const a = await wgml(['masks', '--data', join(tmp.dir, 'data'), '--out', join(tmp.dir, 'x'), '--min-confidence', '2']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--min-confidence: expected a number in \[0, 1\], got '2'/);
    const b = await wgml(['masks', '--data', join(tmp.dir, 'data'), '--out', join(tmp.dir, 'x'), '--method', 'snake']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--method: expected fan or hull, got 'snake'/);
  });
});
