import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { droppedSummary, frameAt, maskAt } from '../../src/data/dataset.js';
import { DatasetError } from '../../src/data/errors.js';
import { readTmed } from '../../src/data/tmed_reader.js';
import { discMask, makeTempDir, pattern, rejection, writePng, writeText } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;

const HEADER = 'query_key,view_label,diagnosis_label,diagnosis_classifier_split,view_classifier_split';

beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('tmed'));
  // the release layout: CSV in DEV479/, PNGs in view_and_diagnosis_labeled_set/labeled/
  const labeled = join(root, 'view_and_diagnosis_labeled_set/labeled');
  for (let i = 0; i < 8; i++) await writePng(join(labeled, `10${i}s1_0.png`), 112, 112, pattern(112, 112, i));
  await writePng(join(root, 'masks/100s1_0.png'), 112, 112, discMask(112, 112, 255));
});

afterAll(async () => cleanup());

async function csv(name: string, lines: string[]): Promise<string> {
  const file = join(root, 'DEV479', name);
  await writeText(file, lines.join('\n') + '\n');
  return file;
}

describe('TMED-2 reader', () => {
  it('keeps PLAX, PSAX (as PSAX-AV), A2C and A4C and counts every other view it drops', async () => {
    const file = await csv('fold0.csv', [
      HEADER,
      '100s1_0.png,PLAX,no_AS,train,train',
      '101s1_0.png,PSAX,mild_AS,train,train',
      '102s1_0.png,A4CorA2CorOther,no_AS,train,train',
      '103s1_0.png,A2C,severe_AS,val,val',
      '104s1_0.png,A4C,no_AS,test,test',
      '105s1_0.png,A4CorA2CorOther,no_AS,val,val',
      '106s1_0.png,PLAX,no_AS,test,test',
    ]);
    const ds = await readTmed(file);
    expect(ds.format).toBe('tmed2');
    expect(ds.classes).toEqual(['PLAX', 'PSAX-AV', 'A2C', 'A4C']);
    expect(ds.samples.map((s) => [s.id, ds.classes[s.label], s.split, s.row])).toEqual([
      ['100s1_0', 'PLAX', 'train', 2],
      ['101s1_0', 'PSAX-AV', 'train', 3],
      ['103s1_0', 'A2C', 'val', 5],
      ['104s1_0', 'A4C', 'test', 6],
      ['106s1_0', 'PLAX', 'test', 8],
    ]);
    expect(ds.dropped).toEqual({ A4CorA2CorOther: 2 });
    expect(droppedSummary(ds)).toBe('dropped 2 A4CorA2CorOther (views outside PLAX, PSAX-AV, A2C, A4C)');
    expect(ds.skipped).toEqual([]);
    expect(ds.masks).toBeNull();
    expect(ds.samples[0]!.file).toBe(join(root, 'view_and_diagnosis_labeled_set/labeled/100s1_0.png'));
    expect([...frameAt(ds, 2)]).toEqual([...pattern(112, 112, 3)]);
  });

  it('takes an explicit image folder, bare query keys, and optional masks by file name', async () => {
    const file = await csv('bare.csv', ['query_key,view_label,view_classifier_split', '100s1_0,PLAX,train', '101s1_0,A4C,train']);
    const ds = await readTmed(file, { imageDir: join(root, 'view_and_diagnosis_labeled_set/labeled'), maskDir: join(root, 'masks') });
    expect(ds.samples.map((s) => s.mask)).toEqual([true, false]);
    expect([...maskAt(ds, 0)!]).toEqual([...discMask(112, 112, 1)]);
  });

  it('names the CSV, the row and the PNG it could not find', async () => {
    const file = await csv('missing.csv', [HEADER, '100s1_0.png,PLAX,no_AS,train,train', '999s9_0.png,A2C,no_AS,train,train']);
    const e = await rejection(() => readTmed(file));
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain(`${file} row 3: ${join(root, 'view_and_diagnosis_labeled_set/labeled/999s9_0.png')}: frame: file not found`);
  });

  it('rejects duplicate query keys, empty labels and empty splits, naming each row', async () => {
    const file = await csv('bad.csv', [
      HEADER,
      '100s1_0.png,PLAX,no_AS,train,train',
      '100s1_0.png,PLAX,no_AS,train,val',
      '101s1_0.png,,no_AS,train,train',
      '102s1_0.png,A4C,no_AS,train,',
    ]);
    const e = (await rejection(() => readTmed(file))) as DatasetError;
    expect(e.issues.map((i) => i.row)).toEqual([3, 4, 5]);
    expect(e.message).toContain('row 3: duplicates row 2 (same query_key 100s1_0.png); expected each image listed once');
    expect(e.message).toContain("row 4: empty 'view_label'; expected a view such as PLAX, PSAX, A2C or A4C");
    expect(e.message).toContain("row 5: empty 'view_classifier_split'; expected train, val or test");
    const ds = await readTmed(file, { skipBad: true });
    expect(ds.samples.map((s) => s.row)).toEqual([2]);
    expect(ds.skipped).toHaveLength(3);
  });

  it('rejects a CSV without the TMED-2 columns', async () => {
    const file = await csv('cols.csv', ['query_key,diagnosis_label', '100s1_0.png,no_AS']);
    const e = await rejection(() => readTmed(file));
    expect(e.message).toContain(`${file} row 1: missing columns view_label, view_classifier_split; expected a header with query_key,view_label,view_classifier_split`);
  });
});
