import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countBySplitAndClass,
  formatCounts,
  frameAt,
  skippedSummary,
  maskAt,
  selectSplit,
  splitIndices,
  subset,
} from '../../src/data/dataset.js';
import { DatasetError } from '../../src/data/errors.js';
import { readManifest } from '../../src/data/manifest_reader.js';
import { discMask, makeTempDir, pattern, rejection, writeJpeg, writeNpyFile, writePng, writePng16, writeText } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('manifest'));
  // good files shared by the tests below
  await writePng(join(root, 'img/a.png'), 112, 112, pattern(112, 112, 1));
  await writePng(join(root, 'img/a_mask.png'), 112, 112, discMask(112, 112, 255));
  await writePng(join(root, 'img/big.png'), 224, 224, new Uint8Array(224 * 224).fill(100));
  await writePng(join(root, 'img/big_mask.png'), 224, 224, discMask(224, 224, 1));
  await writePng(join(root, 'img/rgb.png'), 112, 112, pattern(112, 112, 2), 3);
  await writePng(join(root, 'img/rgba.png'), 112, 112, pattern(112, 112, 5), 4);
  await writePng(join(root, 'img/grey_alpha.png'), 112, 112, pattern(112, 112, 6), 2);
  await writePng16(join(root, 'bad/deep.png'), 112, 112);
  await writeJpeg(join(root, 'img/c.jpg'), 112, 112, new Uint8Array(112 * 112).fill(60));
  await writeNpyFile(join(root, 'npy/d.npy'), 112, 112, '|u1', pattern(112, 112, 3));
  await writeNpyFile(join(root, 'npy/d_mask.npy'), 112, 112, '|u1', discMask(112, 112, 1));
  await writePng(join(root, 'img/with, comma.png'), 112, 112, pattern(112, 112, 4));
  // bad files
  await writePng(join(root, 'bad/small_mask.png'), 100, 100, discMask(100, 100, 255));
  const grey = discMask(112, 112, 255);
  grey[0] = 128;
  await writePng(join(root, 'bad/grey_mask.png'), 112, 112, grey);
  await writeText(join(root, 'bad/corrupt.png'), 'this is not a png');
});

afterAll(async () => cleanup());

async function manifest(name: string, lines: string[]): Promise<string> {
  const file = join(root, name);
  await writeText(file, lines.join('\n') + '\n');
  return file;
}

const HEADER = 'image,label,split,mask,site';

describe('manifest reader: good input', () => {
  it('reads grey, grey+alpha, RGB and RGBA PNGs alike', async () => {
    const csv = await manifest('channels.csv', ['image,label,split', 'img/a.png,PLAX,train', 'img/grey_alpha.png,A2C,train', 'img/rgb.png,A2C,val', 'img/rgba.png,A4C,val']);
    const ds = await readManifest(csv);
    [1, 6, 2, 5].forEach((seed, i) => expect([...frameAt(ds, i)]).toEqual([...pattern(112, 112, seed)]));
  });

  it('reads PNG, colour PNG, JPEG and .npy frames with PNG and .npy masks into one dataset', async () => {
    const csv = await manifest('good.csv', [
      HEADER,
      'img/a.png,PLAX,train,img/a_mask.png,site-a',
      'img/big.png,psax,train,img/big_mask.png,site-b',
      'img/rgb.png,A2C,val,,',
      'img/c.jpg,A4C,val,,site-a',
      'npy/d.npy,PSAX-AV,test,npy/d_mask.npy,site-b',
      '"img/with, comma.png",A4C,test,,site-c',
    ]);
    const ds = await readManifest(csv);
    expect(ds.format).toBe('manifest');
    expect(ds.classes).toEqual(['PLAX', 'PSAX-AV', 'A2C', 'A4C']);
    expect(ds.size).toBe(112);
    expect(ds.samples.map((s) => [s.id, s.label, s.split, s.site, s.mask, s.row])).toEqual([
      ['img/a', 0, 'train', 'site-a', true, 2],
      ['img/big', 1, 'train', 'site-b', true, 3],
      ['img/rgb', 2, 'val', undefined, false, 4],
      ['img/c', 3, 'val', 'site-a', false, 5],
      ['npy/d', 1, 'test', 'site-b', true, 6],
      ['img/with, comma', 3, 'test', 'site-c', false, 7],
    ]);
    expect(ds.frames.length).toBe(6 * 112 * 112);
    expect(ds.skipped).toEqual([]);
    // a frame already at the model size comes through byte for byte
    expect([...frameAt(ds, 0)]).toEqual([...pattern(112, 112, 1)]);
    expect([...frameAt(ds, 4)]).toEqual([...pattern(112, 112, 3)]);
    // colour is converted to grey: equal channels give the same grey value
    expect([...frameAt(ds, 2)]).toEqual([...pattern(112, 112, 2)]);
    // lanczos3 keeps a flat 224² frame flat at 112²
    expect(new Set(frameAt(ds, 1))).toEqual(new Set([100]));
    const jpeg = frameAt(ds, 3);
    expect(Math.abs(jpeg.reduce((a, b) => a + b, 0) / jpeg.length - 60)).toBeLessThan(1);
    // masks: 0/1 whatever the file used, nearest-resized, zero for samples without one
    expect([...maskAt(ds, 0)!]).toEqual([...discMask(112, 112, 1)]);
    const big = maskAt(ds, 1)!;
    expect(new Set(big)).toEqual(new Set([0, 1]));
    const want = discMask(112, 112, 1).reduce((a, b) => a + b, 0);
    expect(Math.abs(big.reduce((a, b) => a + b, 0) - want) / want).toBeLessThan(0.03);
    expect(maskAt(ds, 2)).toBeNull();
    expect(ds.masks!.subarray(2 * 112 * 112, 3 * 112 * 112).every((v) => v === 0)).toBe(true);
  });

  it('keeps ids unique when two files differ only in extension', async () => {
    await writePng(join(root, 'img/c.png'), 112, 112, pattern(112, 112, 9));
    const csv = await manifest('ids.csv', ['image,label,split', 'img/c.jpg,PLAX,train', 'img/c.png,PLAX,train']);
    const ds = await readManifest(csv);
    expect(ds.samples.map((s) => s.id)).toEqual(['img/c', 'img/c.png']);
    expect(skippedSummary(ds)).toBeNull();
  });

  it('resizes to a requested size and accepts caller-given classes', async () => {
    const csv = await manifest('classes.csv', ['image,label,split', 'img/a.png,cat,train', 'img/big.png,dog,train']);
    const ds = await readManifest(csv, { size: 56, classes: ['dog', 'cat'] });
    expect(ds.size).toBe(56);
    expect(ds.frames.length).toBe(2 * 56 * 56);
    expect(ds.samples.map((s) => s.label)).toEqual([1, 0]);
    expect(ds.masks).toBeNull();
  });

  it('selects splits, copies subsets and counts per split × class', async () => {
    const csv = await manifest('splits.csv', [
      HEADER,
      'img/a.png,PLAX,train,img/a_mask.png,',
      'img/c.jpg,A4C,val,,',
      'npy/d.npy,PLAX,train,npy/d_mask.npy,',
    ]);
    const ds = await readManifest(csv);
    expect(splitIndices(ds, 'train')).toEqual([0, 2]);
    const train = selectSplit(ds, 'train');
    expect(train.samples.map((s) => s.id)).toEqual(['img/a', 'npy/d']);
    expect([...frameAt(train, 1)]).toEqual([...frameAt(ds, 2)]);
    expect([...maskAt(train, 1)!]).toEqual([...maskAt(ds, 2)!]);
    const val = subset(ds, [1]);
    expect(val.masks).toBeNull();
    frameAt(val, 0)[0] = 255 - frameAt(val, 0)[0]!;
    expect(frameAt(val, 0)[0]).not.toBe(frameAt(ds, 1)[0]); // a copy, not a view
    const counts = countBySplitAndClass(ds);
    expect(counts).toEqual({ train: { PLAX: 2, 'PSAX-AV': 0, A2C: 0, A4C: 0 }, val: { PLAX: 0, 'PSAX-AV': 0, A2C: 0, A4C: 1 } });
    expect(formatCounts(counts, ds.classes).split('\n')).toEqual([
      'split  PLAX  PSAX-AV  A2C  A4C  total',
      'train     2        0    0    0      2',
      'val       0        0    0    1      1',
      'total     2        0    0    1      3',
    ]);
  });

  it('reports an empty split by name, with the splits that do exist', async () => {
    const csv = await manifest('nosplit.csv', ['image,label,split', 'img/a.png,PLAX,train']);
    const ds = await readManifest(csv);
    const e = (() => {
      try {
        splitIndices(ds, 'val');
      } catch (err) {
        return err as Error;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain(csv);
    expect(e.message).toContain("expected at least one sample with split 'val'; the splits present are 'train'");
  });
});

describe('manifest reader: bad input names file, row and expectation', () => {
  async function failure(name: string): Promise<DatasetError> {
    const e = await rejection(() => readManifest(join(root, name)));
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }

  it('missing image file', async () => {
    await manifest('missing.csv', [HEADER, 'img/a.png,PLAX,train,,', 'img/nope.png,A4C,train,,']);
    const e = await failure('missing.csv');
    expect(e.message).toContain(`${join(root, 'missing.csv')} row 3: ${join(root, 'img/nope.png')}: frame: file not found; expected a readable`);
    expect(e.issues).toHaveLength(1);
  });

  it('unreadable image', async () => {
    await manifest('corrupt.csv', [HEADER, 'bad/corrupt.png,PLAX,train,,']);
    const e = await failure('corrupt.csv');
    expect(e.message).toMatch(/corrupt\.csv row 2: .*bad\/corrupt\.png: frame: cannot decode image \(.*\); expected a readable 8-bit PNG or JPEG/);
  });

  it('16-bit image', async () => {
    await manifest('deep.csv', [HEADER, 'bad/deep.png,PLAX,train,,']);
    const e = await failure('deep.csv');
    expect(e.message).toContain(`deep.csv row 2: ${join(root, 'bad/deep.png')}: frame: 16-bit PNG; expected an 8-bit image`);
  });

  it('missing mask file', async () => {
    await manifest('nomask.csv', [HEADER, 'img/a.png,PLAX,train,img/none_mask.png,']);
    const e = await failure('nomask.csv');
    expect(e.message).toContain(`nomask.csv row 2: ${join(root, 'img/none_mask.png')}: mask: file not found`);
  });

  it('mask whose size differs from its frame (checked before resizing)', async () => {
    await manifest('masksize.csv', [HEADER, 'img/a.png,PLAX,train,bad/small_mask.png,', 'img/big.png,PLAX,train,img/big_mask.png,']);
    const e = await failure('masksize.csv');
    expect(e.issues).toHaveLength(1);
    expect(e.message).toContain(`masksize.csv row 2: ${join(root, 'bad/small_mask.png')}: mask is 100×100 but its frame`);
    expect(e.message).toContain('is 112×112; expected the same size');
  });

  it('mask with values other than {0,1} or {0,255}', async () => {
    await writePng(join(root, 'bad/mixed_mask.png'), 112, 112, discMask(112, 112, 1).map((v, i) => (i === 0 ? 255 : v)));
    await manifest('maskvals.csv', [HEADER, 'img/a.png,PLAX,train,bad/grey_mask.png,', 'img/a_mask.png,PLAX,val,bad/mixed_mask.png,']);
    const e = await failure('maskvals.csv');
    expect(e.message).toContain('maskvals.csv row 2: ');
    expect(e.message).toContain('mask holds values {0, 128, 255}; expected only {0,1} or only {0,255}');
    expect(e.message).toContain('maskvals.csv row 3: ');
    expect(e.message).toContain('mask holds values {0, 1, 255}');
  });

  it('unknown label', async () => {
    await manifest('label.csv', [HEADER, 'img/a.png,PLAX,train,,', 'img/c.jpg,A3C,train,,']);
    const e = await failure('label.csv');
    expect(e.message).toContain(`${join(root, 'label.csv')} row 3: unknown label 'A3C'; expected one of PLAX, PSAX-AV, A2C, A4C`);
  });

  it('empty split field', async () => {
    await manifest('split.csv', [HEADER, 'img/a.png,PLAX,,,']);
    const e = await failure('split.csv');
    expect(e.message).toContain("split.csv row 2: empty 'split' field; expected a split name such as train, val or test");
  });

  it('duplicate rows (the same image twice, even under another split)', async () => {
    await manifest('dup.csv', [HEADER, 'img/a.png,PLAX,train,,', 'img/c.jpg,A4C,val,,', './img/a.png,PLAX,test,,']);
    const e = await failure('dup.csv');
    expect(e.message).toContain('dup.csv row 4: duplicates row 2 (same image ./img/a.png); expected each image listed once');
  });

  it('missing columns', async () => {
    await manifest('cols.csv', ['image,label', 'img/a.png,PLAX']);
    const e = await failure('cols.csv');
    expect(e.message).toContain(`${join(root, 'cols.csv')} row 1: missing column split; expected a header image,label,split[,mask][,site], found image,label`);
    await manifest('cols2.csv', ['file,view', 'img/a.png,PLAX']);
    expect((await failure('cols2.csv')).message).toContain('missing columns image, label, split');
  });

  it('wrong number of fields on a line', async () => {
    await manifest('fields.csv', [HEADER, 'img/a.png,PLAX,train', 'img/c.jpg,A4C,val,,']);
    const e = await failure('fields.csv');
    expect(e.message).toContain('fields.csv row 2: 3 fields; expected 5 as in the header (image,label,split,mask,site)');
  });

  it('an empty CSV and a CSV with only a header', async () => {
    await manifest('empty.csv', []);
    expect((await failure('empty.csv')).message).toContain('row 1: no header row; expected a header image,label,split');
    await manifest('header_only.csv', [HEADER]);
    expect((await failure('header_only.csv')).message).toContain('no usable samples');
  });

  it('lists 20 offenders, then "… and K more"', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 25; i++) lines.push(`img/a${i}.png,BAD${i},train,,`);
    await manifest('many.csv', lines);
    const e = await failure('many.csv');
    expect(e.issues).toHaveLength(25);
    expect(e.message).toContain('(25 problems)');
    expect(e.message).toContain("row 21: unknown label 'BAD19'");
    expect(e.message).not.toContain("'BAD20'");
    expect(e.message.trimEnd().split('\n').at(-1)).toBe('  … and 5 more');
  });
});

describe('manifest reader: every bad record in one error', () => {
  it('bad CSV records and unusable images are reported together, in CSV order, in one pass', async () => {
    const csv = await manifest('allatonce.csv', [
      HEADER,
      'img/a.png,PLAX,train,,', // 2 good
      'img/nope.png,A4C,train,,', // 3 missing image
      'img/c.jpg,A3C,train,,', // 4 unknown label
      'bad/corrupt.png,A4C,val,,', // 5 unreadable
      'npy/d.npy,A2C,,,', // 6 empty split
    ]);
    const e = await rejection(() => readManifest(csv));
    expect(e).toBeInstanceOf(DatasetError);
    const err = e as DatasetError;
    expect(err.issues.map((i) => i.row)).toEqual([3, 4, 5, 6]);
    expect(err.skippable).toBe(true);
    expect(err.message).toContain('(4 problems)');
    // The library names no option: the CLI adds its own flag (--skip-bad) to the message.
    expect(err.message).not.toMatch(/skip/i);
  });
});

describe('manifest reader: skipBad', () => {
  it('keeps the good records and lists every bad one in dataset.skipped', async () => {
    const csv = await manifest('skip.csv', [
      HEADER,
      'img/a.png,PLAX,train,img/a_mask.png,', // 2 good
      'img/nope.png,A4C,train,,', // 3 missing image
      'img/a.png,PLAX,val,,', // 4 duplicate of 2
      'img/c.jpg,A3C,train,,', // 5 unknown label
      'npy/d.npy,A2C,,,', // 6 empty split
      'img/rgb.png,A2C,train,bad/small_mask.png,', // 7 mask size
      'img/c.jpg,A4C,val,bad/grey_mask.png', // 8 field count
      'img/c.jpg,A4C,val,,', // 9 good
      'bad/corrupt.png,A4C,val,,', // 10 unreadable
    ]);
    const progress: number[] = [];
    const ds = await readManifest(csv, { skipBad: true, onProgress: (done) => progress.push(done) });
    expect(ds.samples.map((s) => s.row)).toEqual([2, 9]);
    expect(ds.frames.length).toBe(2 * 112 * 112);
    expect([...maskAt(ds, 0)!]).toEqual([...discMask(112, 112, 1)]);
    expect(ds.skipped.map((s) => s.row).sort((a, b) => a! - b!)).toEqual([3, 4, 5, 6, 7, 8, 10]);
    for (const s of ds.skipped) expect(s.reason).toMatch(/expected/);
    expect(ds.skipped.find((s) => s.row === 3)!.file).toBe(join(root, 'img/nope.png'));
    expect(ds.skipped.find((s) => s.row === 5)!.file).toBe(csv);
    // progress counts the records that reached decoding: the 5 that passed the CSV checks
    expect(progress.at(-1)).toBe(5);
    const summary = skippedSummary(ds)!;
    expect(summary.split('\n')[0]).toBe(`skipped 7 bad records of ${csv}:`);
    expect(summary.split('\n')).toHaveLength(8);
  });

  it('still throws when nothing usable is left', async () => {
    await manifest('allbad.csv', [HEADER, 'img/nope.png,A4C,train,,']);
    const e = await rejection(() => readManifest(join(root, 'allbad.csv'), { skipBad: true }));
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain('no usable samples');
  });

  it('decodes a frame with the same pixels sharp gives for the file', async () => {
    const csv = await manifest('one.csv', ['image,label,split', 'img/big.png,A2C,train']);
    const ds = await readManifest(csv);
    const want = await sharp(join(root, 'img/big.png')).grayscale().resize(112, 112, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    expect([...frameAt(ds, 0)]).toEqual([...want]);
  });
});
