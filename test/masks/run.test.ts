// `runMasks` end to end on every layout wgml reads: masks written at each frame's size, a
// manifest that loadDataset reads back, existing masks kept unless `overwrite`, frames without
// a sector left unmasked and counted, every bad file named in one error, the IoU report
// against a reference, the group consensus rescuing a shadowed frame, and the preview sheet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, loadDataset, maskAt, readGray } from '../../src/data/index.js';
import { iou, rasterize, type FanModel } from '../../src/masks/model.js';
import { runMasks } from '../../src/masks/run.js';
import { makeTempDir, rejection, writeNpyFile, writePng, writeText } from '../data/fixtures.js';
import { drawEcg, drawText, S, sectorFrame } from './frames.js';

const DEG = Math.PI / 180;
/** Frames of one "scanner": the same fan up to a pixel of apex and a degree of angle, like the synthetic sites. */
function fanOf(k: number): FanModel {
  return { kind: 'fan', apexX: 56 + ((k % 3) - 1), apexY: 5 + ((k % 2) - 0.5), thetaLeft: (-38 + (k % 3) * 0.5) * DEG, thetaRight: (38 - (k % 2) * 0.5) * DEG, radius: 88 + (k % 4), innerRadius: 0 };
}

function frameOf(k: number): { frame: Uint8Array; mask: Uint8Array } {
  const f = sectorFrame(fanOf(k), 100 + k);
  drawText(f.frame, 2, 2, 3, 6, k);
  drawEcg(f.frame, 4, 108, 102);
  return f;
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await makeTempDir('masks');
});
afterAll(async () => {
  await tmp.cleanup();
});

describe('runMasks', () => {
  it('manifest: masks for frames without one, existing masks kept, a black frame unmasked; loadDataset reads the result', async () => {
    const root = join(tmp.dir, 'manifest');
    const lines = ['image,label,split,mask,site'];
    const truth = new Map<string, Uint8Array>();
    for (let k = 0; k < 10; k++) {
      const { frame, mask } = frameOf(k);
      await writePng(join(root, `f${k}.png`), S, S, frame);
      truth.set(`f${k}`, mask);
      lines.push(`f${k}.png,${['PLAX', 'A4C'][k % 2]},${k < 8 ? 'train' : 'val'},,scanner-1`);
    }
    // frame 10 has its own (deliberately different) mask; frame 11 is black
    await writePng(join(root, 'f10.png'), S, S, frameOf(10).frame);
    const own = rasterize({ kind: 'fan', apexX: 56, apexY: 20, thetaLeft: -20 * DEG, thetaRight: 20 * DEG, radius: 50, innerRadius: 0 }, S, S);
    await writePng(join(root, 'm10.png'), S, S, own.map((v) => v * 255));
    lines.push('f10.png,A2C,train,m10.png,scanner-1');
    await writePng(join(root, 'f11.png'), S, S, new Uint8Array(S * S));
    lines.push('f11.png,A2C,train,,scanner-1');
    await writeText(join(root, 'manifest.csv'), lines.join('\n') + '\n');

    const out = join(tmp.dir, 'manifest-out');
    const r = await runMasks({ data: root, out });
    expect(r.frames).toBe(12);
    expect(r.auto).toBe(10);
    expect(r.kept).toBe(1);
    expect(r.lowConfidence).toBe(1);
    const black = r.records.find((x) => x.id === 'f11')!;
    expect(black.status).toBe('low-confidence');
    expect(black.confidence).toBe(0);

    const ds = await loadDataset(r.manifest);
    expect(ds.samples.map((s) => s.mask)).toEqual([...Array(11).fill(true), false]);
    expect(ds.samples.map((s) => s.site)).toEqual(Array(12).fill('scanner-1'));
    for (let i = 0; i < 10; i++) expect(iou(maskAt(ds, i)!, truth.get(`f${i}`)!)).toBeGreaterThanOrEqual(0.97);
    expect(iou(maskAt(ds, 10)!, own)).toBe(1);
    const text = await readFile(r.manifest, 'utf8');
    expect(text.split('\n')[11]).toBe('../manifest/f10.png,A2C,train,../manifest/m10.png,scanner-1');

    // --overwrite replaces the kept mask with a fitted one
    const again = await runMasks({ data: root, out, overwrite: true });
    expect(again.kept).toBe(0);
    expect(again.auto).toBe(11);
    const ds2 = await loadDataset(again.manifest);
    expect(iou(maskAt(ds2, 10)!, frameOf(10).mask)).toBeGreaterThanOrEqual(0.97);
  });

  it('a frame whose edge is lost in a dense shadow takes its group consensus; with --reference IoU is reported per site and the preview puts it first', async () => {
    const root = join(tmp.dir, 'shadow');
    const lines = ['image,label,split,mask,site'];
    for (let k = 0; k < 8; k++) {
      const { frame, mask } = frameOf(k);
      if (k === 3) {
        // black out the left 45% of the fan below row 30: its region's left boundary is now a
        // straight line from near the apex, as a dense acoustic shadow draws it
        const m = fanOf(3);
        for (let y = 30; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const t = Math.atan2(x + 0.5 - m.apexX, y + 0.5 - m.apexY);
            if (mask[y * S + x] && t < m.thetaLeft + 0.45 * (m.thetaRight - m.thetaLeft)) frame[y * S + x] = 2;
          }
        }
      }
      await writePng(join(root, `f${k}.png`), S, S, frame);
      await writePng(join(root, `m${k}.png`), S, S, mask.map((v) => v * 255));
      lines.push(`f${k}.png,PLAX,train,m${k}.png,site-x`);
    }
    await writeText(join(root, 'manifest.csv'), lines.join('\n') + '\n');
    const out = join(tmp.dir, 'shadow-out');
    // the dataset's own masks are the reference; overwrite makes every mask an automatic one
    const r = await runMasks({ data: root, out, overwrite: true, reference: root, preview: 4 });
    const shadowed = r.records.find((x) => x.id === 'f3')!;
    expect(shadowed.source).toBe('group');
    // the consensus is the group's median geometry, so the frame's own jitter (up to 1.5 px of
    // radius, 1 px of apex, 1° of edge here) stays in the error: ≥ 0.9
    expect(shadowed.referenceIou).toBeGreaterThanOrEqual(0.9);
    expect(r.fromGroup).toBe(1);
    expect(r.reference).toHaveLength(1);
    expect(r.reference![0]!.site).toBe('site-x');
    expect(r.reference![0]!.frames).toBe(8);
    expect(r.reference![0]!.meanIou).toBeGreaterThanOrEqual(0.97);
    const sheet = await readGray(r.preview!);
    expect(sheet.width).toBeGreaterThan(4 * 2 * S);
    const csv = (await readFile(join(out, 'preview.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(5);
    // worst IoU against the reference first
    const ious = csv.slice(1).map((l) => Number(l.split(',').at(-1)));
    expect([...ious].sort((a, b) => a - b)).toEqual(ious);
  });

  it('TMED-2 CSV: masks for the four views, grouped by study; the manifest keeps TMED-2 labels as wgml names them', async () => {
    const root = join(tmp.dir, 'tmed');
    const rows = ['query_key,view_label,diagnosis_label,diagnosis_classifier_split,view_classifier_split'];
    for (let k = 0; k < 6; k++) {
      await writePng(join(root, `10${k % 2}s1_${k}.png`), S, S, frameOf(k).frame);
      rows.push(`10${k % 2}s1_${k}.png,${['PLAX', 'PSAX', 'A4CorA2CorOther'][k % 3]},no_AS,train,train`);
    }
    await writeText(join(root, 'labels.csv'), rows.join('\n') + '\n');
    const r = await runMasks({ data: join(root, 'labels.csv'), out: join(tmp.dir, 'tmed-out') });
    expect(r.frames).toBe(4); // the two A4CorA2CorOther rows are TMED-2's, not ours
    expect(new Set(r.records.map((x) => x.group))).toEqual(new Set(['study 100s1 112x112', 'study 101s1 112x112']));
    const ds = await loadDataset(r.manifest);
    expect(ds.samples.map((s) => ds.classes[s.label])).toEqual(['PLAX', 'PSAX-AV', 'PLAX', 'PSAX-AV']);
    expect(ds.samples.every((s) => s.mask)).toBe(true);
  });

  it('BackMix layout (.npy frames, no masking2/): masks at the frame size, ids keep the split folder', async () => {
    const root = join(tmp.dir, 'backmix');
    for (let k = 0; k < 3; k++) {
      const { frame } = frameOf(k);
      await writeNpyFile(join(root, k < 2 ? 'train' : 'val', `p${k}_A4C.npy`), S, S, '|u1', frame);
    }
    const r = await runMasks({ data: root, out: join(tmp.dir, 'backmix-out') });
    expect(r.records.map((x) => x.id)).toEqual(['train/p0_A4C', 'train/p1_A4C', 'val/p2_A4C']);
    expect(r.records[2]!.maskFile).toBe(join(tmp.dir, 'backmix-out', 'masks', 'val', 'p2_A4C.png'));
    const ds = await loadDataset(r.manifest);
    expect(ds.samples.every((s) => s.mask)).toBe(true);
    expect(iou(maskAt(ds, 1)!, frameOf(1).mask)).toBeGreaterThanOrEqual(0.97);
  });

  it('bad input: every unreadable frame and bad row in one error', async () => {
    const root = join(tmp.dir, 'bad');
    await writePng(join(root, 'ok.png'), S, S, frameOf(0).frame);
    await writeText(join(root, 'broken.png'), 'not a png');
    await writeText(join(root, 'manifest.csv'), 'image,label,split\nok.png,PLAX,train\nbroken.png,A4C,train\nmissing.png,A4C,train\nok2.png,XYZ,train\n');
    const e = await rejection(() => runMasks({ data: root, out: join(tmp.dir, 'bad-out') }));
    expect(e).toBeInstanceOf(DatasetError);
    const issues = (e as DatasetError).issues;
    expect(issues.map((i) => i.row)).toEqual([3, 4, 5]);
    expect(e.message).toMatch(/broken\.png/);
    expect(e.message).toMatch(/missing\.png/);
    expect(e.message).toMatch(/unknown label 'XYZ'/);
    // an output folder holding the input manifest would replace it
    const same = await rejection(() => runMasks({ data: join(tmp.dir, 'manifest'), out: join(tmp.dir, 'manifest') }));
    expect(same.message).toMatch(/would overwrite the dataset's manifest/);
  });
});
