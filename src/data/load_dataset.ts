// One entry point for every on-disk layout, chosen by looking at what is there:
//   *.csv with image,label,split columns            → manifest
//   *.csv with query_key,view_label,view_classifier_split → TMED-2
//   a folder holding manifest.csv                   → manifest
//   a folder holding train/*.npy                    → BackMix reference layout

import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LoadOptions } from './assemble.js';
import { readBackmix } from './backmix_reader.js';
import { csvColumns } from './csv_table.js';
import { splitIndices, type Dataset } from './dataset.js';
import { DatasetError } from './errors.js';
import { MANIFEST_COLUMNS, readManifest } from './manifest_reader.js';
import { readTmed, TMED_COLUMNS, type TmedOptions } from './tmed_reader.js';

export interface LoadDatasetOptions extends LoadOptions, TmedOptions {
  /** Splits that must hold at least one sample after loading (e.g. ['train','val']). */
  requireSplits?: string[];
}

export type DetectedFormat = { format: 'manifest'; csv: string } | { format: 'tmed2'; csv: string } | { format: 'backmix'; dir: string };

async function kind(p: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** Works out which reader a path needs, or throws a DatasetError saying what was looked for. */
export async function detectFormat(pathOrDir: string): Promise<DetectedFormat> {
  const p = resolve(pathOrDir);
  const k = await kind(p);
  if (k === null) {
    throw new DatasetError(`dataset not found: ${p}`, [
      { file: p, row: null, reason: 'no such file or folder; expected a manifest or TMED-2 CSV, or a folder holding one' },
    ]);
  }
  if (k === 'file') {
    const cols = await csvColumns(p);
    if (MANIFEST_COLUMNS.every((c) => cols.includes(c))) return { format: 'manifest', csv: p };
    if (TMED_COLUMNS.every((c) => cols.includes(c))) return { format: 'tmed2', csv: p };
    throw new DatasetError(`unrecognised dataset CSV ${p}`, [
      {
        file: p,
        row: 1,
        reason: `header ${cols.join(',') || '(empty)'}; expected image,label,split[,mask][,site] (manifest) or query_key,view_label,view_classifier_split (TMED-2)`,
      },
    ]);
  }
  const manifest = join(p, 'manifest.csv');
  if ((await kind(manifest)) === 'file') return { format: 'manifest', csv: manifest };
  const train = join(p, 'train');
  if ((await kind(train)) === 'dir') {
    const names = await readdir(train);
    if (names.some((n) => n.toLowerCase().endsWith('.npy'))) return { format: 'backmix', dir: p };
  }
  throw new DatasetError(`unrecognised dataset folder ${p}`, [
    { file: p, row: null, reason: 'expected manifest.csv inside it, or train/ holding .npy frames (BackMix layout)' },
  ]);
}

/** Loads any supported layout (see the file comment) into a Dataset. */
export async function loadDataset(pathOrDir: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const d = await detectFormat(pathOrDir);
  const ds =
    d.format === 'manifest' ? await readManifest(d.csv, opts) : d.format === 'tmed2' ? await readTmed(d.csv, opts) : await readBackmix(d.dir, opts);
  for (const split of opts.requireSplits ?? []) splitIndices(ds, split);
  return ds;
}
