// The manifest CSV: wgml's own format, and what `wgml synth` writes.
//   image,label,split[,mask][,site]
// Paths are relative to the CSV's directory (absolute paths are kept). An empty mask field
// means the record has no mask (semi-supervised BackMix); an empty site field means unknown.

import { dirname, extname, relative, resolve, sep } from 'node:path';
import { assembleDataset, type Candidate, type LoadOptions, type ReaderOutput } from './assemble.js';
import { readCsvTable, field } from './csv_table.js';
import { CANONICAL_CLASSES, type Dataset } from './dataset.js';
import type { DataIssue } from './errors.js';
import { expectedLabels, labelIndex } from './labels.js';

export const MANIFEST_COLUMNS = ['image', 'label', 'split'] as const;
export const MANIFEST_LAYOUT = 'image,label,split[,mask][,site]';

/** The id of a file: its path relative to `root`, '/'-separated, without extension. */
export function idFromPath(root: string, file: string): string {
  const rel = relative(root, file);
  const noExt = rel.slice(0, rel.length - extname(rel).length);
  return noExt.split(sep).join('/');
}

/** Reads the CSV and checks every record; decodes nothing. */
export async function scanManifest(csvPath: string, classes: string[] = [...CANONICAL_CLASSES]): Promise<ReaderOutput> {
  const file = resolve(csvPath);
  const root = dirname(file);
  const table = await readCsvTable(file, MANIFEST_COLUMNS, MANIFEST_LAYOUT);
  const issues: DataIssue[] = [...table.issues];
  const candidates: Candidate[] = [];
  const firstRowOf = new Map<string, number>();
  const ids = new Set<string>();
  const hasMask = table.columns.includes('mask');
  const hasSite = table.columns.includes('site');

  for (const r of table.records) {
    const bad = (reason: string) => issues.push({ file, row: r.line, reason });
    const image = field(table, r, 'image');
    const labelText = field(table, r, 'label');
    const split = field(table, r, 'split');
    if (image === '') {
      bad("empty 'image' field; expected a path relative to the CSV's directory");
      continue;
    }
    const label = labelIndex(labelText, classes);
    if (label < 0) {
      bad(`unknown label '${labelText}'; ${expectedLabels(classes)}`);
      continue;
    }
    if (split === '') {
      bad("empty 'split' field; expected a split name such as train, val or test");
      continue;
    }
    const imagePath = resolve(root, image);
    const first = firstRowOf.get(imagePath);
    if (first !== undefined) {
      bad(`duplicates row ${first} (same image ${image}); expected each image listed once`);
      continue;
    }
    firstRowOf.set(imagePath, r.line);
    // a.png and a.jpg would share the id 'a'; the second keeps its extension to stay unique
    let id = idFromPath(root, imagePath);
    if (ids.has(id)) id = relative(root, imagePath).split(sep).join('/');
    ids.add(id);
    const c: Candidate = { id, file: imagePath, label, split, row: r.line };
    const mask = hasMask ? field(table, r, 'mask') : '';
    if (mask !== '') c.maskFile = resolve(root, mask);
    const site = hasSite ? field(table, r, 'site') : '';
    if (site !== '') c.site = site;
    candidates.push(c);
  }
  return { format: 'manifest', source: file, classes, candidates, issues, dropped: {} };
}

/** Reads a manifest CSV and decodes its frames and masks (see LoadOptions). */
export async function readManifest(csvPath: string, opts: LoadOptions = {}): Promise<Dataset> {
  return assembleDataset(await scanManifest(csvPath, opts.classes ?? [...CANONICAL_CLASSES]), opts);
}
