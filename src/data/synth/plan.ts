// Who is imaged where: synthetic patients, their sites and splits, their views, and the cue
// each frame's background carries. Splits are by patient (each patient's frames share heart
// anatomy), so no near-duplicate crosses from train into val/test.

import { drawPatientHeart } from './anatomy.js';
import type { SampleSpec } from './frame.js';
import { hashSeed, Rng } from './rng.js';
import { inDistributionSites, oodSite } from './sites.js';

export const SYNTH_SPLITS = ['train', 'val', 'test', 'ood-test'] as const;
export type SynthSplit = (typeof SYNTH_SPLITS)[number];

/** Relative sizes of the splits (normalised; 'ood-test' patients come from the o.o.d. site). */
export type SplitFractions = Record<SynthSplit, number>;

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.67, val: 0.11, test: 0.11, 'ood-test': 0.11 };

/** Frames per patient: one per view, so every split is class-balanced. */
export const FRAMES_PER_PATIENT = 4;

export interface PlanOptions {
  n: number;
  seed: number;
  shortcutStrength: number;
  hardFraction: number;
  fractions: SplitFractions;
  classes: readonly string[];
}

/**
 * Patients per split by largest remainder, at least one per split with a positive fraction
 * (when there are enough patients), so small test sets still have every split.
 */
export function patientsPerSplit(patients: number, fractions: SplitFractions): Record<SynthSplit, number> {
  const total = SYNTH_SPLITS.reduce((a, s) => a + Math.max(0, fractions[s]), 0);
  if (!(total > 0)) throw new RangeError('split fractions must have a positive sum');
  const exact = SYNTH_SPLITS.map((s) => (patients * Math.max(0, fractions[s])) / total);
  const counts = exact.map(Math.floor);
  let left = patients - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    counts[i]!++;
    left--;
  }
  // lend one patient from the largest split to any positive-fraction split left empty
  SYNTH_SPLITS.forEach((s, i) => {
    if (fractions[s] > 0 && counts[i] === 0) {
      const big = counts.indexOf(Math.max(...counts));
      if (counts[big]! > 1) {
        counts[big]!--;
        counts[i] = 1;
      }
    }
  });
  return Object.fromEntries(SYNTH_SPLITS.map((s, i) => [s, counts[i]!])) as Record<SynthSplit, number>;
}

/** The full sample plan, in a fixed order (split, then patient, then frame). */
export function planSamples(o: PlanOptions): SampleSpec[] {
  if (!Number.isInteger(o.n) || o.n < 1) throw new RangeError(`n must be a positive integer, got ${o.n}`);
  const rng = new Rng(hashSeed(o.seed, 'plan'));
  const nPatients = Math.ceil(o.n / FRAMES_PER_PATIENT);
  const perSplit = patientsPerSplit(nPatients, o.fractions);
  const idSites = inDistributionSites();
  const ood = oodSite();
  const k = o.classes.length;

  // When n is not a multiple of 4 the last patient (in ood-test) gets the remainder.
  const specs: SampleSpec[] = [];
  let patient = 0;
  let framesLeft = o.n;
  for (const split of SYNTH_SPLITS) {
    for (let p = 0; p < perSplit[split]; p++, patient++) {
      const site = split === 'ood-test' ? ood : idSites[patient % idSites.length]!;
      const heart = drawPatientHeart(new Rng(hashSeed(o.seed, 'patient', patient)));
      const views = rng.shuffle([...Array(k).keys()]);
      const take = Math.min(FRAMES_PER_PATIENT, framesLeft);
      for (let f = 0; f < take; f++) {
        const view = views[f % k]!;
        let cueClass: number;
        if (site.ood) cueClass = rng.int(k); // independent of the view
        else if (rng.chance(o.shortcutStrength)) cueClass = view;
        else cueClass = (view + 1 + rng.int(k - 1)) % k; // one of the other classes, uniformly
        const index = specs.length;
        const id = `${split}/${site.id}_p${String(patient).padStart(4, '0')}_${f}_${o.classes[view]}`;
        specs.push({ index, id, split, site, patient, heart, view, cueClass, hard: rng.chance(o.hardFraction) });
      }
      framesLeft -= take;
    }
  }
  return specs;
}
