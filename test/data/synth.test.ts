import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameAt, maskAt, splitIndices } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/load_dataset.js';
import { renderSample } from '../../src/data/synth/frame.js';
import { planSamples, DEFAULT_SPLIT_FRACTIONS, patientsPerSplit } from '../../src/data/synth/plan.js';
import { hashSeed, Rng } from '../../src/data/synth/rng.js';
import { isCurrentSynthOutput, synthesize, SYNTH_DEFAULTS, SYNTH_VERSION, type SynthResult } from '../../src/data/synth/synthesize.js';
import { markerBitmap, MARKER_SIZE } from '../../src/data/synth/metadata.js';
import { CUE_MARKERS, SITES } from '../../src/data/synth/sites.js';
import { makeTempDir, rejection, writeText } from './fixtures.js';

const CLASSES = ['PLAX', 'PSAX-AV', 'A2C', 'A4C'];
const N = 48; // 12 patients: 8 train, 2 val, 1 test, 1 ood-test

let root: string;
let cleanup: () => Promise<void>;
let first: SynthResult;
let progress: [number, number][] = [];

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('synth'));
  first = await synthesize({ out: join(root, 'a'), n: N, seed: 7, onProgress: (d, t) => progress.push([d, t]) });
});

afterAll(async () => cleanup());

describe('synthetic benchmark: reproducibility', () => {
  it('writes identical bytes for the same seed and different frames for another seed', async () => {
    await synthesize({ out: join(root, 'b'), n: N, seed: 7 });
    await synthesize({ out: join(root, 'c'), n: N, seed: 8 });
    const a = await tree(join(root, 'a'));
    const b = await tree(join(root, 'b'));
    const c = await tree(join(root, 'c'));
    expect(a.size).toBe(2 * N + 3); // frames, masks, manifest.csv, synth_samples.csv, synth.json
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    const framesA = [...a].filter(([k]) => k.startsWith('frames/')).map(([, h]) => h);
    const framesC = new Set([...c].filter(([k]) => k.startsWith('frames/')).map(([, h]) => h));
    expect(framesA.filter((h) => framesC.has(h))).toEqual([]);
  });

  it('reports progress for every sample', () => {
    expect(progress).toHaveLength(N);
    expect(progress.at(-1)).toEqual([N, N]);
  });

  it('rewrites an earlier output but refuses a folder that is not one', async () => {
    await synthesize({ out: join(root, 'a2'), n: 8, seed: 7 });
    const again = await synthesize({ out: join(root, 'a2'), n: 4, seed: 7 });
    expect((await tree(join(root, 'a2'))).size).toBe(2 * 4 + 3); // the n=8 images are gone
    expect(again.samples).toHaveLength(4);
    await writeText(join(root, 'user/data.txt'), 'keep me');
    const e = await rejection(() => synthesize({ out: join(root, 'user'), n: 4 }));
    expect(e.message).toContain('holds no synth.json');
  });

  it('the PRNG is seeded, stable and uniform-looking', () => {
    const a = new Rng(hashSeed(1, 'x'));
    const b = new Rng(hashSeed(1, 'x'));
    const c = new Rng(hashSeed(1, 'y'));
    const xs = Array.from({ length: 2000 }, () => a.float());
    expect(Array.from({ length: 2000 }, () => b.float())).toEqual(xs);
    expect(c.float()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.03);
    expect(hashSeed('ab', 'c')).not.toBe(hashSeed('a', 'bc'));
  });
});

describe('synthetic benchmark: splits and classes', () => {
  it('default n gives about train 800 / val 130 / test 130 / ood-test 140, class-balanced, split by patient', () => {
    const plan = planSamples({
      n: SYNTH_DEFAULTS.n,
      seed: 1,
      shortcutStrength: 0.9,
      hardFraction: 0.1,
      fractions: DEFAULT_SPLIT_FRACTIONS,
      classes: CLASSES,
    });
    const per = (split: string) => plan.filter((s) => s.split === split);
    expect([per('train').length, per('val').length, per('test').length, per('ood-test').length]).toEqual([804, 132, 132, 132]);
    for (const split of ['train', 'val', 'test', 'ood-test']) {
      const counts = CLASSES.map((_, c) => per(split).filter((s) => s.view === c).length);
      expect(new Set(counts).size).toBe(1);
    }
    const patientsOf = (split: string) => new Set(per(split).map((s) => s.patient));
    const all = ['train', 'val', 'test', 'ood-test'].map(patientsOf);
    expect(all.reduce((a, s) => a + s.size, 0)).toBe(new Set(plan.map((s) => s.patient)).size); // no patient in two splits
    expect(new Set(per('ood-test').map((s) => s.site.id))).toEqual(new Set(['site-c']));
    expect(new Set(per('train').map((s) => s.site.id))).toEqual(new Set(['site-a', 'site-b']));
  });

  it('split sizes follow the fractions and keep every split non-empty when possible', () => {
    expect(patientsPerSplit(12, DEFAULT_SPLIT_FRACTIONS)).toEqual({ train: 8, val: 2, test: 1, 'ood-test': 1 });
    expect(patientsPerSplit(4, DEFAULT_SPLIT_FRACTIONS)).toEqual({ train: 1, val: 1, test: 1, 'ood-test': 1 });
    expect(patientsPerSplit(10, { train: 1, val: 1, test: 0, 'ood-test': 0 })).toEqual({ train: 5, val: 5, test: 0, 'ood-test': 0 });
  });

  it('writes a manifest that loadDataset reads back with the promised counts, masks and sites', async () => {
    expect(first.counts).toEqual({
      train: { PLAX: 8, 'PSAX-AV': 8, A2C: 8, A4C: 8 },
      val: { PLAX: 2, 'PSAX-AV': 2, A2C: 2, A4C: 2 },
      test: { PLAX: 1, 'PSAX-AV': 1, A2C: 1, A4C: 1 },
      'ood-test': { PLAX: 1, 'PSAX-AV': 1, A2C: 1, A4C: 1 },
    });
    const ds = await loadDataset(join(root, 'a'));
    expect(ds.samples).toHaveLength(N);
    expect(ds.samples.every((s) => s.mask)).toBe(true);
    expect(ds.classes).toEqual(CLASSES);
    expect(new Set(splitIndices(ds, 'ood-test').map((i) => ds.samples[i]!.site))).toEqual(new Set(['site-c']));
    const json = JSON.parse(await readFile(join(root, 'a/synth.json'), 'utf8'));
    expect(json).toMatchObject({ generatorVersion: SYNTH_VERSION, seed: 7, n: N, size: 112, shortcutStrength: SYNTH_DEFAULTS.shortcutStrength, classes: CLASSES });
    expect(json.counts).toEqual(first.counts);
    const side = (await readFile(join(root, 'a/synth_samples.csv'), 'utf8')).trim().split('\n');
    expect(side[0]).toContain('cue_element,cue_class,cue_matches_label,hard');
    expect(side).toHaveLength(N + 1);
  });
});

describe('synthetic benchmark: masks, geometry and the shortcut', () => {
  it('masks are binary PNGs (0/255) shaped like a fan: one run per row, widening with depth, corners empty', async () => {
    for (const s of first.samples) {
      const file = join(first.out, s.mask);
      expect((await sharp(file).metadata()).channels).toBe(1); // stored grey, not RGB
      const { data, info } = await sharp(file).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      expect(new Set(data).size).toBeLessThanOrEqual(2);
      expect([...new Set(data)].every((v) => v === 0 || v === 255)).toBe(true);
      const size = info.width;
      const on = data.reduce((a, v) => a + (v ? 1 : 0), 0) / data.length;
      expect(on).toBeGreaterThan(0.3);
      expect(on).toBeLessThan(0.65);
      expect(on).toBeCloseTo(s.maskFraction, 2);
      expect(data[0]).toBe(0);
      expect(data[size - 1]).toBe(0);
      expect(data[Math.floor(size / 2) * size + Math.floor(size / 2)]).toBe(255); // heart depth, centre line
      let prevWidth = 0;
      let widening = true;
      for (let y = 0; y < size; y++) {
        const row = [...data.subarray(y * size, (y + 1) * size)].map((v) => (v ? 1 : 0)).join('');
        // above the inner arc of a curved-top sector a row crosses the fan twice
        if (y + 0.5 < s.apexY + s.innerRadius + 1) continue;
        expect(row).toMatch(/^0*1*0*$/);
        const width = row.split('1').length - 1;
        if (y < size * 0.6 && width < prevWidth) widening = false;
        prevWidth = width;
      }
      expect(widening).toBe(true);
    }
  });

  it('the o.o.d. site has a different sector: narrower fan, apex above the image, curved top', () => {
    const ood = first.samples.filter((s) => s.ood);
    const id = first.samples.filter((s) => !s.ood);
    expect(ood.length).toBeGreaterThan(0);
    expect(Math.max(...ood.map((s) => s.halfAngleDeg))).toBeLessThan(Math.min(...id.map((s) => s.halfAngleDeg)) - 4);
    expect(Math.max(...ood.map((s) => s.apexY))).toBeLessThan(0);
    expect(Math.min(...id.map((s) => s.apexY))).toBeGreaterThan(0);
    expect(Math.min(...ood.map((s) => s.innerRadius))).toBeGreaterThan(10);
    expect(Math.max(...id.map((s) => s.innerRadius))).toBe(0);
  });

  it('the cue follows the view with probability shortcutStrength in i.d. sites and is independent o.o.d.', () => {
    const opts = { n: 8000, seed: 3, hardFraction: 0.1, fractions: { train: 0.5, val: 0, test: 0, 'ood-test': 0.5 }, classes: CLASSES };
    const plan = planSamples({ ...opts, shortcutStrength: 0.9 });
    const agree = (ood: boolean) => {
      const xs = plan.filter((s) => s.site.ood === ood);
      return xs.filter((s) => s.cueClass === s.view).length / xs.length;
    };
    expect(agree(false)).toBeGreaterThan(0.88);
    expect(agree(false)).toBeLessThan(0.92);
    expect(agree(true)).toBeGreaterThan(0.22);
    expect(agree(true)).toBeLessThan(0.28);
    // at 0.25 the i.d. cue is independent too: every (view, cue) pair equally likely
    const flat = planSamples({ ...opts, shortcutStrength: 0.25 }).filter((s) => !s.site.ood);
    for (let v = 0; v < 4; v++) {
      for (let c = 0; c < 4; c++) {
        const share = flat.filter((s) => s.view === v && s.cueClass === c).length / flat.length;
        expect(Math.abs(share - 1 / 16)).toBeLessThan(0.015);
      }
    }
    const hard = plan.filter((s) => s.hard).length / plan.length;
    expect(Math.abs(hard - 0.1)).toBeLessThan(0.015);
  });

  it('the cue lives only outside the sector and the view only inside it', async () => {
    const ds = await loadDataset(join(root, 'a'));
    const plan = planSamples({ n: N, seed: 7, shortcutStrength: 0.9, hardFraction: 0.1, fractions: DEFAULT_SPLIT_FRACTIONS, classes: CLASSES });
    for (const site of ['site-a', 'site-b']) {
      const spec = plan.find((s) => s.site.id === site)!;
      const base = renderSample(spec, 7, 112);
      // the same frame as written to disk
      expect([...base.image]).toEqual([...frameAt(ds, spec.index)]);
      expect([...base.mask]).toEqual([...maskAt(ds, spec.index)!]);
      const otherCue = renderSample({ ...spec, cueClass: (spec.cueClass + 1) % 4 }, 7, 112);
      let inside = 0;
      let outside = 0;
      base.image.forEach((v, i) => {
        if (v !== otherCue.image[i]) base.mask[i] ? inside++ : outside++;
      });
      expect(inside).toBe(0);
      expect(outside).toBeGreaterThan(20);
      const otherView = renderSample({ ...spec, view: (spec.view + 1) % 4 }, 7, 112);
      let changed = 0;
      base.image.forEach((v, i) => {
        if (base.mask[i] && Math.abs(v - otherView.image[i]!) > 30) changed++;
      });
      expect(changed).toBeGreaterThan(200);
    }
  });

  it('body markers: four shapes that differ in many pixels, also after a flip', () => {
    const flip = (b: Uint8Array) => b.map((_, i) => b[Math.floor(i / MARKER_SIZE) * MARKER_SIZE + (MARKER_SIZE - 1 - (i % MARKER_SIZE))]!);
    const bitmaps = CUE_MARKERS.map(markerBitmap);
    for (let a = 0; a < 4; a++) {
      expect(bitmaps[a]!.reduce((x, y) => x + y, 0)).toBeGreaterThan(30); // visible
      for (let b = a + 1; b < 4; b++) {
        for (const other of [bitmaps[b]!, flip(bitmaps[b]!)]) {
          const differ = bitmaps[a]!.filter((v, i) => v !== other[i]).length;
          expect(differ).toBeGreaterThan(30);
        }
      }
    }
  });

  it('the body marker never touches the sector, whatever the per-frame jitter', () => {
    for (const site of SITES) {
      const plan = planSamples({ n: 400, seed: 11, shortcutStrength: 1, hardFraction: 0, fractions: site.ood ? { train: 0, val: 0, test: 0, 'ood-test': 1 } : { train: 1, val: 0, test: 0, 'ood-test': 0 }, classes: CLASSES });
      const specs = plan.filter((s) => s.site.id === site.id).slice(0, 40);
      expect(specs.length).toBeGreaterThan(10);
      for (const spec of specs) {
        const { mask } = renderSample(spec, 11, 112);
        const { x, y } = site.style.bodyMarker;
        for (let j = 0; j < MARKER_SIZE; j++) for (let i = 0; i < MARKER_SIZE; i++) expect(mask[(y + j) * 112 + x + i], `${spec.id} marker pixel (${x + i}, ${y + j})`).toBe(0);
      }
    }
  });

  it('a cached benchmark is reused only when generator version and options match', async () => {
    const dir = join(root, 'a');
    expect(await isCurrentSynthOutput(dir, { n: N, seed: 7 })).toBe(true);
    expect(await isCurrentSynthOutput(dir, { n: N, seed: 8 })).toBe(false);
    expect(await isCurrentSynthOutput(dir, { n: N, seed: 7, shortcutStrength: 0.5 })).toBe(false);
    expect(await isCurrentSynthOutput(join(root, 'missing'), { n: N, seed: 7 })).toBe(false);
    const stale = join(root, 'stale');
    await writeText(join(stale, 'manifest.csv'), 'image,label,split\n');
    const json = JSON.parse(await readFile(join(dir, 'synth.json'), 'utf8'));
    await writeText(join(stale, 'synth.json'), JSON.stringify({ ...json, generatorVersion: SYNTH_VERSION - 1 }));
    expect(await isCurrentSynthOutput(stale, { n: N, seed: 7 })).toBe(false);
  });

  it('frames have dark chambers in brighter tissue inside the sector and a mostly black background', async () => {
    const ds = await loadDataset(join(root, 'a'));
    const q90: number[] = [];
    const q05: number[] = [];
    for (let i = 0; i < ds.samples.length; i++) {
      const f = frameAt(ds, i);
      const m = maskAt(ds, i)!;
      const inside = [...f].filter((_, k) => m[k]).sort((a, b) => a - b);
      const outside = [...f].filter((_, k) => !m[k]);
      const q = (p: number) => inside[Math.floor(p * (inside.length - 1))]!;
      q90.push(q(0.9));
      q05.push(q(0.05));
      expect(q(0.9) - q(0.05)).toBeGreaterThan(25); // even hard frames keep some structure
      expect(outside.filter((v) => v <= 4).length / outside.length).toBeGreaterThan(0.7);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    expect(median(q90)).toBeGreaterThan(110); // tissue
    expect(median(q05)).toBeLessThan(50); // blood
  });
});
