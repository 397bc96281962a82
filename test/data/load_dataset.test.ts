import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';
import { detectFormat, loadDataset } from '../../src/data/load_dataset.js';
import { makeTempDir, pattern, rejection, writeNpyFile, writePng, writeText } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('detect'));
  await writePng(join(root, 'm/img/a.png'), 112, 112, pattern(112, 112, 1));
  await writePng(join(root, 'm/img/b.png'), 112, 112, pattern(112, 112, 2));
  await writeText(join(root, 'm/manifest.csv'), 'image,label,split\nimg/a.png,PLAX,train\nimg/b.png,A2C,val\n');
  await writeText(join(root, 'm/other_name.csv'), 'split,label,image,site\ntrain,A4C,img/a.png,s1\n');
  await writePng(join(root, 't/labeled/1s1_0.png'), 112, 112, pattern(112, 112, 3));
  await writeText(join(root, 't/tmed.csv'), 'query_key,view_label,view_classifier_split\n1s1_0.png,PSAX,train\n');
  await writeNpyFile(join(root, 'b/train/x_A4C.npy'), 112, 112, '|u1', pattern(112, 112, 4));
  await writeText(join(root, 'unknown.csv'), 'path,class\na.png,PLAX\n');
  await writeText(join(root, 'empty_dir/readme.txt'), 'nothing here');
});

afterAll(async () => cleanup());

describe('loadDataset auto-detection', () => {
  it('recognises each layout', async () => {
    expect(await detectFormat(join(root, 'm'))).toEqual({ format: 'manifest', csv: join(root, 'm/manifest.csv') });
    expect(await detectFormat(join(root, 'm/other_name.csv'))).toEqual({ format: 'manifest', csv: join(root, 'm/other_name.csv') });
    expect(await detectFormat(join(root, 't/tmed.csv'))).toEqual({ format: 'tmed2', csv: join(root, 't/tmed.csv') });
    expect(await detectFormat(join(root, 'b'))).toEqual({ format: 'backmix', dir: join(root, 'b') });
  });

  it('loads each layout into the same Dataset shape', async () => {
    const m = await loadDataset(join(root, 'm'));
    const reordered = await loadDataset(join(root, 'm/other_name.csv'));
    const t = await loadDataset(join(root, 't/tmed.csv'));
    const b = await loadDataset(join(root, 'b'));
    expect([m.format, reordered.format, t.format, b.format]).toEqual(['manifest', 'manifest', 'tmed2', 'backmix']);
    expect(m.samples.map((s) => s.split)).toEqual(['train', 'val']);
    expect(reordered.samples[0]).toMatchObject({ label: 3, split: 'train', site: 's1' });
    expect(t.samples[0]!.label).toBe(1);
    expect(b.samples[0]!.label).toBe(3);
    for (const ds of [m, reordered, t, b]) {
      expect(ds.classes).toEqual(['PLAX', 'PSAX-AV', 'A2C', 'A4C']);
      expect(ds.frames.length).toBe(ds.samples.length * 112 * 112);
    }
  });

  it('enforces requireSplits', async () => {
    await expect(loadDataset(join(root, 'm'), { requireSplits: ['train', 'val'] })).resolves.toBeTruthy();
    const e = await rejection(() => loadDataset(join(root, 'm'), { requireSplits: ['train', 'test'] }));
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain("split 'test' is empty");
    expect(e.message).toContain("the splits present are 'train', 'val'");
  });

  it('says what it looked for when it recognises nothing', async () => {
    const csv = await rejection(() => loadDataset(join(root, 'unknown.csv')));
    expect(csv.message).toContain(`${join(root, 'unknown.csv')} row 1: header path,class; expected image,label,split`);
    const dir = await rejection(() => loadDataset(join(root, 'empty_dir')));
    expect(dir.message).toContain('expected manifest.csv inside it, or train/ holding .npy frames');
    const none = await rejection(() => loadDataset(join(root, 'does_not_exist')));
    expect(none.message).toContain('no such file or folder');
  });
});
