// The synthetic "hospitals": each site is a scanner with its own sector geometry and its own
// metadata style. Sites A and B are in-distribution (train/val/test); site C is the
// out-of-distribution site (ood-test) with a different scanner style AND a different sector
// (narrower fan, apex above the image, curved top), like TMED vs WASE in the paper.
//
// The shortcut: background elements follow the view with probability shortcutStrength in the
// i.d. sites. Every site shows a body marker (the probe-position pictogram scanners print),
// one shape per cue class (CUE_MARKERS). In addition, site A draws all its text in one of four
// typefaces (CUE_TYPEFACES) chosen by the cue class, and site B draws its ECG in one of four
// morphologies chosen by the cue class. Site C draws its marker and its ECG from the same
// four, chosen independently of the view, in its own layout.
//
// Why the marker: the typeface and ECG cues alone are too fine for a stride-4 stem, so a
// small ResNet18 read the chambers instead and the benchmark showed no shortcut (o.o.d. only
// 3 points below i.d.). A 13-pixel shape survives the stem, and with the cue always right
// (shortcut strength 1) and a quarter of frames hard to read, the baseline leans on it
// (bench/results/synth-shortcut.md).
//
// Layout coordinates are pixels of a 112 × 112 frame and scale with the output size.

import type { MarkerShape, Typeface } from './metadata.js';

/** Which background element carries the class cue: the text font, or the ECG morphology. */
export type CueElement = 'font' | 'ecg';

export interface TextBlock {
  x: number;
  y: number;
  lines: number;
  glyphs: number;
}

export interface ScannerStyle {
  name: string;
  font: { seed: number; w: number; h: number; count: number };
  /** Grey-level range of text (drawn per image). */
  textValue: [number, number];
  /** Text whose content is random per image (patient name, date, frequency …). */
  blocks: TextBlock[];
  logo: { x: number; y: number; w: number; h: number; seed: number; value: number };
  /** ECG trace; `morphology` is used when the ECG is not the cue element (see ecgWave). */
  ecg: { x0: number; x1: number; y: number; amp: number; value: number; morphology: number; thickness: number };
  ticks: { side: -1 | 1; gap: number; style: 'dot' | 'dash'; value: number };
  greyBar: { x: number; y: number; w: number; h: number } | null;
  /** Body marker (top-left corner, pixels; grey level), drawn where no sector reaches. */
  bodyMarker: { x: number; y: number; value: number };
  /** Background noise amplitude in grey levels (0 = pure black). */
  floor: number;
}

/** Nominal sector, as fractions of the image size (angle in degrees). */
export interface SiteGeometry {
  apexX: number;
  apexY: number;
  halfAngleDeg: number;
  radius: number;
  innerRadius: number;
}

/** Typeface per cue class when the font is the cue element (class order PLAX, PSAX-AV, A2C, A4C). */
export const CUE_TYPEFACES: readonly Typeface[] = ['stems', 'bars', 'boxes', 'dots'];

/** Body-marker shape per cue class (class order PLAX, PSAX-AV, A2C, A4C), in every site. */
export const CUE_MARKERS: readonly MarkerShape[] = ['disc', 'ring', 'cross', 'square'];

export interface SiteSpec {
  id: string;
  ood: boolean;
  geometry: SiteGeometry;
  style: ScannerStyle;
  /** The element that encodes the cue class. */
  cue: CueElement;
}

export const SITES: readonly SiteSpec[] = [
  {
    id: 'site-a',
    ood: false,
    geometry: { apexX: 0.5, apexY: 0.05, halfAngleDeg: 37.5, radius: 0.82, innerRadius: 0 },
    cue: 'font',
    style: {
      name: 'scanner-alpha',
      font: { seed: 11, w: 3, h: 5, count: 24 },
      textValue: [170, 235],
      blocks: [
        { x: 2, y: 2, lines: 4, glyphs: 8 },
        { x: 78, y: 20, lines: 2, glyphs: 8 },
        { x: 2, y: 36, lines: 1, glyphs: 3 },
      ],
      logo: { x: 97, y: 2, w: 11, h: 11, seed: 101, value: 200 },
      ecg: { x0: 4, x1: 108, y: 104, amp: 5, value: 160, morphology: 4, thickness: 1 },
      ticks: { side: 1, gap: 3, style: 'dot', value: 220 },
      greyBar: { x: 106, y: 30, w: 3, h: 28 },
      bodyMarker: { x: 1, y: 44, value: 235 },
      floor: 0,
    },
  },
  {
    id: 'site-b',
    ood: false,
    geometry: { apexX: 0.5, apexY: 0.04, halfAngleDeg: 40, radius: 0.8, innerRadius: 0 },
    cue: 'ecg',
    style: {
      name: 'scanner-beta',
      font: { seed: 23, w: 3, h: 5, count: 24 },
      textValue: [150, 215],
      blocks: [
        { x: 72, y: 3, lines: 3, glyphs: 9 },
        { x: 2, y: 22, lines: 2, glyphs: 6 },
      ],
      logo: { x: 3, y: 3, w: 11, h: 11, seed: 202, value: 230 },
      ecg: { x0: 2, x1: 110, y: 101, amp: 7, value: 200, morphology: 0, thickness: 2 },
      ticks: { side: -1, gap: 3, style: 'dash', value: 190 },
      greyBar: null,
      bodyMarker: { x: 94, y: 30, value: 225 },
      floor: 0,
    },
  },
  {
    id: 'site-c',
    ood: true,
    geometry: { apexX: 0.5, apexY: -0.06, halfAngleDeg: 30, radius: 1.0, innerRadius: 0.16 },
    cue: 'ecg',
    style: {
      name: 'scanner-gamma',
      font: { seed: 37, w: 4, h: 6, count: 24 },
      textValue: [120, 200],
      blocks: [
        { x: 64, y: 2, lines: 3, glyphs: 8 },
        { x: 2, y: 40, lines: 2, glyphs: 4 },
        { x: 2, y: 18, lines: 1, glyphs: 3 },
      ],
      logo: { x: 2, y: 2, w: 13, h: 9, seed: 303, value: 170 },
      ecg: { x0: 2, x1: 110, y: 103, amp: 6, value: 170, morphology: 0, thickness: 2 },
      ticks: { side: -1, gap: 2, style: 'dash', value: 160 },
      greyBar: { x: 2, y: 62, w: 3, h: 22 },
      bodyMarker: { x: 96, y: 40, value: 210 },
      floor: 4,
    },
  },
];

export function inDistributionSites(): SiteSpec[] {
  return SITES.filter((s) => !s.ood);
}

export function oodSite(): SiteSpec {
  const s = SITES.find((x) => x.ood);
  if (!s) throw new Error('no o.o.d. site defined');
  return s;
}
