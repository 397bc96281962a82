import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelToken, readBackmix } from '../../src/data/backmix_reader.js';
import { frameAt, maskAt } from '../../src/data/dataset.js';
import { DatasetError } from '../../src/data/errors.js';
import { discMask, makeTempDir, pattern, rejection, writeNpyFile, writeText } from './fixtures.js';

let base: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: base, cleanup } = await makeTempDir('backmix'));
});

afterAll(async () => cleanup());

let layoutCount = 0;
/** A fresh layout folder: files maps 'train/x_PLAX.npy' (or 'masking2/…') to what to write. */
async function layout(files: Record<string, 'frame' | 'mask' | 'float' | 'text'>): Promise<string> {
  const root = join(base, `l${layoutCount++}`);
  let k = 0;
  for (const [rel, kind] of Object.entries(files)) {
    const f = join(root, rel);
    if (kind === 'frame') await writeNpyFile(f, 112, 112, '|u1', pattern(112, 112, k++));
    else if (kind === 'float') await writeNpyFile(f, 112, 112, '<f4', Array.from(pattern(112, 112, k++), (v) => v + 0.3));
    else if (kind === 'mask') await writeNpyFile(f, 112, 112, '|u1', discMask(112, 112, 1));
    else await writeText(f, 'not an array');
  }
  return root;
}

describe('BackMix reference layout reader', () => {
  it('reads train/val/test frames with masking2 masks, label from the last _ token, in sorted name order', async () => {
    const root = await layout({
      'train/b_2_A4C.npy': 'frame',
      'train/a_1_PSAX.npy': 'float',
      'train/c_3_PLAX.npy': 'frame',
      'masking2/train/a_1_PSAX.npy': 'mask',
      'masking2/train/b_2_A4C.npy': 'mask',
      'masking2/train/c_3_PLAX.npy': 'mask',
      'val/d_A2C.npy': 'frame',
      'test/e_A4C.npy': 'frame',
      'test/notes.txt': 'text', // not a .npy: not part of the layout
    });
    const ds = await readBackmix(root);
    expect(ds.format).toBe('backmix');
    expect(ds.samples.map((s) => [s.id, ds.classes[s.label], s.split, s.mask])).toEqual([
      ['train/a_1_PSAX', 'PSAX-AV', 'train', true],
      ['train/b_2_A4C', 'A4C', 'train', true],
      ['train/c_3_PLAX', 'PLAX', 'train', true],
      ['val/d_A2C', 'A2C', 'val', false],
      ['test/e_A4C', 'A4C', 'test', false],
    ]);
    // float frames are rounded: pattern + 0.3 comes back as the pattern
    expect([...frameAt(ds, 0)]).toEqual([...pattern(112, 112, 1)]);
    expect([...maskAt(ds, 1)!]).toEqual([...discMask(112, 112, 1)]);
    expect(maskAt(ds, 3)).toBeNull();
  });

  it('labelToken takes the last _-separated token without the extension', () => {
    expect(labelToken('abc_12_PSAX.npy')).toBe('PSAX');
    expect(labelToken('x_A4C.npy')).toBe('A4C');
    expect(labelToken('noseparator.npy')).toBeNull();
  });

  it('requires a mask for every frame of a split that has a mask folder, and a frame for every mask', async () => {
    const root = await layout({
      'train/a_PLAX.npy': 'frame',
      'train/b_A4C.npy': 'frame',
      'masking2/train/a_PLAX.npy': 'mask',
      'masking2/train/z_A2C.npy': 'mask',
    });
    const e = (await rejection(() => readBackmix(root))) as DatasetError;
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain(`${join(root, 'masking2/train/b_A4C.npy')}: mask not found; expected one for every frame of ${join(root, 'train')}`);
    expect(e.message).toContain(`${join(root, 'masking2/train/z_A2C.npy')}: mask without a frame; expected ${join(root, 'train/z_A2C.npy')}`);
  });

  it('rejects unknown labels, names without a label, empty splits and unreadable arrays', async () => {
    const root = await layout({
      'train/a_PLAX.npy': 'frame',
      'train/b_A5C.npy': 'frame',
      'train/nolabel.npy': 'frame',
      'train/c_A2C.npy': 'text',
      'val/readme.txt': 'text',
    });
    const e = (await rejection(() => readBackmix(root))) as DatasetError;
    expect(e.message).toContain(`${join(root, 'train/b_A5C.npy')}: unknown label 'A5C' (last '_' token of the name); expected one of PLAX, PSAX-AV, A2C, A4C`);
    expect(e.message).toContain(`${join(root, 'train/nolabel.npy')}: no '_<label>' suffix in the file name`);
    expect(e.message).toContain(`${join(root, 'val')}: split 'val' is empty; expected at least one .npy frame`);
    // unreadable arrays are found in the decode pass, after the layout checks pass
    const ds = await readBackmix(root, { skipBad: true });
    expect(ds.samples.map((s) => s.id)).toEqual(['train/a_PLAX']);
    expect(ds.skipped.map((s) => s.file).sort()).toEqual(
      [join(root, 'train/b_A5C.npy'), join(root, 'train/c_A2C.npy'), join(root, 'train/nolabel.npy'), join(root, 'val')].sort(),
    );
    expect(ds.skipped.find((s) => s.file.endsWith('c_A2C.npy'))!.reason).toMatch(/cannot parse .npy: not a .npy file: expected the magic bytes/);
    expect(ds.skipped.every((s) => s.row === null)).toBe(true);
  });

  it('says what it expected when there is no train folder', async () => {
    const root = await layout({ 'val/a_PLAX.npy': 'frame' });
    const e = await rejection(() => readBackmix(root));
    expect(e.message).toContain(`${join(root, 'train')}: folder missing; expected train/`);
  });
});
