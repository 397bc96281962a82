// `wgml augment` end to end: a manifest dataset on disk → PNG grid + JSON of parameters.
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { registerAugment } from '../../src/cli/augment.js';
import { S, echoFrame, sectorMask } from './fixtures.js';

async function writeGray(file: string, data: Uint8Array): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width: S, height: S, channels: 1 } }).png().toFile(file);
}

describe('wgml augment', () => {
  it('writes a source | mask | result grid and the parameters of each row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wgml-augment-'));
    try {
      const lines = ['image,label,split,mask'];
      const views = ['PLAX', 'PSAX-AV', 'A2C', 'A4C'];
      for (let i = 0; i < 5; i++) {
        const mask = sectorMask(S, 8 + (i % 2), 1);
        await writeGray(join(dir, `f${i}.png`), echoFrame(S, i, mask));
        await writeGray(join(dir, `m${i}.png`), mask.map((v) => v * 255));
        lines.push(`f${i}.png,${views[i % 4]},${i < 4 ? 'train' : 'val'},m${i}.png`);
      }
      await writeFile(join(dir, 'manifest.csv'), lines.join('\n') + '\n');
      const program = new Command().option('--adapter <kind>').exitOverride();
      registerAugment(program);
      const out = join(dir, 'out');
      await program.parseAsync(['node', 'wgml', 'augment', '--data', dir, '--out', out, '-n', '3', '--method', 'backmix', '--seed', '2', '--size', String(S)]);
      const meta = await sharp(join(out, 'augment.png')).metadata();
      expect(meta.channels).toBe(1); // written as one grey channel
      expect([meta.width, meta.height]).toEqual([3 * S + 8, 3 * S + 8]);
      const json = JSON.parse(await readFile(join(out, 'augment.json'), 'utf8')) as { columns: string[]; rows: { id: string; inSubset: boolean; donor?: string }[] };
      expect(json.columns).toEqual(['source', 'mask', 'result']);
      expect(json.rows).toHaveLength(3);
      for (const r of json.rows) {
        expect(r.id).toMatch(/^f[0-3]$/); // train split only
        expect(r.inSubset).toBe(true);
        expect(r.donor).toMatch(/^f[0-3]$/);
      }
      // The mask column is pure black/white.
      const { data, info } = await sharp(join(out, 'augment.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(1);
      for (let y = 2; y < 2 + S; y++) {
        for (let x = 4 + S; x < 4 + 2 * S; x++) expect([0, 255]).toContain(data[y * info.width + x]);
      }
      await expect(program.parseAsync(['node', 'wgml', 'augment', '--data', dir, '--out', out, '--method', 'mixup', '--size', String(S)])).rejects.toThrow(/unknown augmentation method/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
