import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSynthSummary, parseSplits, registerSynth } from '../../src/cli/synth.js';
import type { SynthSampleMeta } from '../../src/data/synth/writer.js';
import { makeTempDir } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('synthcli'));
});
afterAll(async () => cleanup());

/** A sample record with only split and cue agreement mattering to the summary. */
function sample(split: string, cueMatchesLabel: boolean): SynthSampleMeta {
  return {
    id: 'x', image: 'x.png', mask: 'm.png', label: 'PLAX', split, site: 'site-a', ood: false, patient: 0,
    cueElement: 'font', cueClass: 'PLAX', cueMatchesLabel, hard: false,
    apexX: 56, apexY: 5, halfAngleDeg: 37, radius: 90, innerRadius: 0, depthCm: 15, maskFraction: 0.4,
  };
}

function program(): Command {
  const p = new Command().name('wgml').exitOverride();
  registerSynth(p);
  return p;
}

describe('wgml synth', () => {
  it('generates the requested dataset with the given options', async () => {
    const out = join(root, 'cli');
    await program().parseAsync(['synth', '--out', out, '--n', '16', '--seed', '5', '--size', '64', '--shortcut', '0.5', '--hard', '0', '--json'], { from: 'user' });
    const json = JSON.parse(await readFile(join(out, 'synth.json'), 'utf8'));
    expect(json).toMatchObject({ n: 16, seed: 5, size: 64, shortcutStrength: 0.5, hardFraction: 0 });
    const manifest = (await readFile(join(out, 'manifest.csv'), 'utf8')).trim().split('\n');
    expect(manifest).toHaveLength(17);
  });

  it('parses --splits', async () => {
    expect(parseSplits('train=0.5, val=0.25,ood-test=0.25')).toEqual({ train: 0.5, val: 0.25, 'ood-test': 0.25 });
    expect(() => parseSplits('train=0.5,dev=0.5')).toThrow("--splits: expected name=fraction pairs with names from train, val, test, ood-test, got 'dev=0.5'");
    expect(() => parseSplits('train=-1')).toThrow('--splits');
    const out = join(root, 'splits');
    await program().parseAsync(['synth', '--out', out, '--n', '8', '--size', '48', '--splits', 'train=1,val=1,test=0,ood-test=0', '--json'], { from: 'user' });
    const json = JSON.parse(await readFile(join(out, 'synth.json'), 'utf8'));
    expect(Object.keys(json.counts)).toEqual(['train', 'val']);
  });

  it('rejects out-of-range options with a message naming the option', async () => {
    await expect(program().parseAsync(['synth', '--out', join(root, 'x'), '--shortcut', '1.5'], { from: 'user' })).rejects.toThrow(
      "--shortcut: expected a number in [0, 1], got '1.5'",
    );
    await expect(program().parseAsync(['synth', '--out', join(root, 'x'), '--n', '0'], { from: 'user' })).rejects.toThrow('--n: expected an integer ≥ 1');
  });

  it('summarises counts per split × class and how often the cue names the view', () => {
    const text = formatSynthSummary(
      {
        out: '/o',
        manifest: '/o/manifest.csv',
        classes: ['PLAX', 'A4C'],
        counts: { train: { PLAX: 1, A4C: 1 }, 'ood-test': { PLAX: 1, A4C: 0 } },
        samples: [sample('train', true), sample('train', false), sample('ood-test', false)],
      },
      1.25,
    );
    expect(text.split('\n')).toEqual([
      'wrote 3 frames and masks to /o in 1.3 s',
      'split     PLAX  A4C  total',
      'train        1    1      2',
      'ood-test     1    0      1',
      'total        2    1      3',
      'background cue names the true view: train 50%, ood-test 0%',
      'manifest: /o/manifest.csv',
    ]);
  });
});
