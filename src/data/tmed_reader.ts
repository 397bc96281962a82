// TMED-2 (tmed.cs.tufts.edu): a CSV such as TMED2_fold0_labeledpart.csv with columns
//   query_key, view_label, diagnosis_label, diagnosis_classifier_split, view_classifier_split
// next to a folder of 112×112 8-bit PNGs named by query_key. We keep the four views of the
// BackMix paper (PSAX is the aortic-valve short axis, renamed PSAX-AV) and count every other
// view label as dropped, so nothing disappears unreported.

import { readdir } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { assembleDataset, type Candidate, type LoadOptions, type ReaderOutput } from './assemble.js';
import { field, readCsvTable } from './csv_table.js';
import { CANONICAL_CLASSES, type Dataset } from './dataset.js';
import type { DataIssue } from './errors.js';
import { canonicalView } from './labels.js';

export const TMED_COLUMNS = ['query_key', 'view_label', 'view_classifier_split'] as const;
const TMED_LAYOUT = 'with query_key,view_label,view_classifier_split (TMED-2)';

export interface TmedOptions extends LoadOptions {
  /** Folder holding the PNGs. Default: searched (see tmedImageDirs). */
  imageDir?: string;
  /** Optional folder of sector masks named like the frames; frames without one get no mask. */
  maskDir?: string;
}

/**
 * Where PNGs are looked for when no imageDir is given, in order: the CSV's folder, and the
 * `labeled` folders of the TMED-2 release next to it or one level up.
 */
export function tmedImageDirs(csvDir: string): string[] {
  const sets = ['view_and_diagnosis_labeled_set', 'view_labeled_set'];
  return [
    csvDir,
    join(csvDir, 'labeled'),
    ...sets.map((s) => join(csvDir, s, 'labeled')),
    ...sets.map((s) => join(csvDir, '..', s, 'labeled')),
  ];
}

async function listNames(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    return new Set();
  }
}

export async function scanTmed(csvPath: string, opts: TmedOptions = {}): Promise<ReaderOutput> {
  const file = resolve(csvPath);
  const csvDir = dirname(file);
  const table = await readCsvTable(file, TMED_COLUMNS, TMED_LAYOUT);
  const issues: DataIssue[] = [...table.issues];
  const dirs = opts.imageDir ? [resolve(opts.imageDir)] : tmedImageDirs(csvDir).map((d) => resolve(d));
  const listings = await Promise.all(dirs.map(listNames));
  const maskDir = opts.maskDir ? resolve(opts.maskDir) : null;
  const maskNames = maskDir ? await listNames(maskDir) : new Set<string>();
  const classes = [...CANONICAL_CLASSES];
  const dropped: Record<string, number> = {};
  const candidates: Candidate[] = [];
  const firstRowOf = new Map<string, number>();

  // A missing file is reported in the folder where most of the others were found.
  const keyed = table.records.map((r) => withPng(field(table, r, 'query_key')));
  const hits = listings.map((names) => keyed.filter((k) => names.has(k)).length);
  const bestDir = hits.indexOf(Math.max(...hits));

  table.records.forEach((r, idx) => {
    const bad = (reason: string) => issues.push({ file, row: r.line, reason });
    const key = field(table, r, 'query_key');
    const view = field(table, r, 'view_label');
    const split = field(table, r, 'view_classifier_split');
    if (key === '') return bad("empty 'query_key'; expected a PNG file name such as 1000s1_0.png");
    if (view === '') return bad("empty 'view_label'; expected a view such as PLAX, PSAX, A2C or A4C");
    const canonical = canonicalView(view);
    if (canonical === null) {
      // Views other than the four (A4CorA2CorOther, …) are not ours to train on: counted, not kept.
      dropped[view] = (dropped[view] ?? 0) + 1;
      return;
    }
    if (split === '') return bad("empty 'view_classifier_split'; expected train, val or test");
    const name = keyed[idx]!;
    const first = firstRowOf.get(name);
    if (first !== undefined) return bad(`duplicates row ${first} (same query_key ${key}); expected each image listed once`);
    firstRowOf.set(name, r.line);
    const dirIndex = listings.findIndex((names) => names.has(name));
    const imageFile = join(dirs[dirIndex >= 0 ? dirIndex : bestDir]!, name);
    const c: Candidate = {
      id: name.slice(0, name.length - extname(name).length),
      file: imageFile,
      label: classes.indexOf(canonical),
      split,
      row: r.line,
    };
    if (maskDir && maskNames.has(name)) c.maskFile = join(maskDir, name);
    candidates.push(c);
  });
  return { format: 'tmed2', source: file, classes, candidates, issues, dropped };
}

/** TMED-2 query keys carry '.png'; accept bare keys too. */
function withPng(key: string): string {
  return extname(key) === '' ? `${key}.png` : key;
}

/** Reads a TMED-2 CSV and decodes the PNGs of the four kept views. */
export async function readTmed(csvPath: string, opts: TmedOptions = {}): Promise<Dataset> {
  return assembleDataset(await scanTmed(csvPath, opts), opts);
}
