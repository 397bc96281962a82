// Files of a synthetic dataset: grey PNGs for frames and masks, the manifest wgml reads,
// and a per-sample metadata CSV for later analysis (does the shortcut exist, which frames
// are hard). PNG settings are fixed so equal pixels always give equal bytes.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { csvLine } from '../csv.js';

/** data: [size, size] u8 grey → PNG at `file` (parent folders created). */
export async function writeGrayPng(file: string, data: Uint8Array, size: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: size, height: size, channels: 1 } })
    .toColourspace('b-w') // without it libvips writes 1-channel raw input as 3-channel sRGB
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toFile(file);
}

/** Per-sample facts recorded in synth_samples.csv (paths relative to the output folder). */
export interface SynthSampleMeta {
  id: string;
  image: string;
  mask: string;
  label: string;
  split: string;
  site: string;
  ood: boolean;
  patient: number;
  /** The background element that carries the cue in this sample's site. */
  cueElement: string;
  /** The class the cue points to. */
  cueClass: string;
  cueMatchesLabel: boolean;
  hard: boolean;
  apexX: number;
  apexY: number;
  halfAngleDeg: number;
  radius: number;
  innerRadius: number;
  depthCm: number;
  /** Fraction of pixels inside the sector. */
  maskFraction: number;
}

const SAMPLE_COLUMNS: (keyof SynthSampleMeta)[] = [
  'id',
  'image',
  'mask',
  'label',
  'split',
  'site',
  'ood',
  'patient',
  'cueElement',
  'cueClass',
  'cueMatchesLabel',
  'hard',
  'apexX',
  'apexY',
  'halfAngleDeg',
  'radius',
  'innerRadius',
  'depthCm',
  'maskFraction',
];

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function cell(v: SynthSampleMeta[keyof SynthSampleMeta]): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}

/** manifest.csv: image,label,split,mask,site — the format `loadDataset` reads. */
export function manifestText(samples: readonly SynthSampleMeta[]): string {
  const lines = ['image,label,split,mask,site', ...samples.map((s) => csvLine([s.image, s.label, s.split, s.mask, s.site]))];
  return lines.join('\n') + '\n';
}

/** synth_samples.csv: one row of SynthSampleMeta per sample, snake_case headers. */
export function samplesText(samples: readonly SynthSampleMeta[]): string {
  const lines = [SAMPLE_COLUMNS.map(snake).join(','), ...samples.map((s) => csvLine(SAMPLE_COLUMNS.map((k) => cell(s[k]))))];
  return lines.join('\n') + '\n';
}

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}
