// The BackMix reference layout (kitbransby/BackMix):
//   ROOT/{train,val,test}/*.npy            frames, uint8 (or float 0..255), 2-D
//   ROOT/masking2/{split}/<same name>.npy  sector masks, 0/1
// The label is the last '_'-separated token of the file name (…_PSAX.npy). Samples are in
// sorted file-name order (as the reference's sorted(glob)), which matters because the
// semi-supervised subset is chosen by index in that order.

import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { assembleDataset, type Candidate, type LoadOptions, type ReaderOutput } from './assemble.js';
import { CANONICAL_CLASSES, type Dataset } from './dataset.js';
import { DatasetError, type DataIssue } from './errors.js';
import { expectedLabels, labelIndex } from './labels.js';

export const BACKMIX_SPLITS = ['train', 'val', 'test'] as const;
export const BACKMIX_MASK_DIR = 'masking2';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function npyNames(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => extname(n).toLowerCase() === '.npy');
  // Code-unit order, which equals Python's sorted() for the ASCII names this layout uses.
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Label token of a file name: 'abc_12_PSAX.npy' → 'PSAX'; null when there is no '_'. */
export function labelToken(name: string): string | null {
  const stem = basename(name, extname(name));
  const k = stem.lastIndexOf('_');
  return k < 0 ? null : stem.slice(k + 1);
}

export async function scanBackmix(rootDir: string, classes: string[] = [...CANONICAL_CLASSES]): Promise<ReaderOutput> {
  const root = resolve(rootDir);
  const issues: DataIssue[] = [];
  const candidates: Candidate[] = [];
  const present: string[] = [];
  for (const split of BACKMIX_SPLITS) if (await isDir(join(root, split))) present.push(split);
  if (!present.includes('train')) {
    throw new DatasetError(`not a BackMix layout: ${root}`, [
      { file: join(root, 'train'), row: null, reason: 'folder missing; expected train/ (and val/, test/) holding .npy frames' },
    ]);
  }
  for (const split of present) {
    const frameDir = join(root, split);
    const maskDir = join(root, BACKMIX_MASK_DIR, split);
    const names = await npyNames(frameDir);
    if (names.length === 0) {
      issues.push({ file: frameDir, row: null, reason: `split '${split}' is empty; expected at least one .npy frame` });
      continue;
    }
    // A split either has a mask folder, and then every frame needs its mask, or has none.
    const masks = (await isDir(maskDir)) ? new Set(await npyNames(maskDir)) : null;
    for (const name of names) {
      const file = join(frameDir, name);
      const token = labelToken(name);
      if (token === null) {
        issues.push({ file, row: null, reason: `no '_<label>' suffix in the file name; expected e.g. 123_A4C.npy` });
        continue;
      }
      const label = labelIndex(token, classes);
      if (label < 0) {
        issues.push({ file, row: null, reason: `unknown label '${token}' (last '_' token of the name); ${expectedLabels(classes)}` });
        continue;
      }
      const c: Candidate = { id: `${split}/${basename(name, extname(name))}`, file, label, split, row: null };
      if (masks) {
        if (!masks.has(name)) {
          issues.push({ file: join(maskDir, name), row: null, reason: `mask not found; expected one for every frame of ${frameDir}` });
          continue;
        }
        c.maskFile = join(maskDir, name);
      }
      candidates.push(c);
    }
    if (masks) {
      const frameSet = new Set(names);
      for (const m of masks) {
        if (!frameSet.has(m)) {
          issues.push({ file: join(maskDir, m), row: null, reason: `mask without a frame; expected ${join(frameDir, m)}` });
        }
      }
    }
  }
  return { format: 'backmix', source: root, classes, candidates, issues, dropped: {} };
}

/** Reads the BackMix reference layout (see the file comment). */
export async function readBackmix(rootDir: string, opts: LoadOptions = {}): Promise<Dataset> {
  return assembleDataset(await scanBackmix(rootDir, opts.classes ?? [...CANONICAL_CLASSES]), opts);
}
