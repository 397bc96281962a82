// Label names to class indices. The four echo views go by several spellings across datasets
// (TMED-2 and the BackMix file names say 'PSAX' for the aortic-valve short axis), so names are
// mapped onto the canonical ones before lookup.

import { CANONICAL_CLASSES } from './dataset.js';

const ALIASES: Record<string, string> = {
  PLAX: 'PLAX',
  PSAX: 'PSAX-AV',
  'PSAX-AV': 'PSAX-AV',
  PSAX_AV: 'PSAX-AV',
  PSAXAV: 'PSAX-AV',
  'PSAX AV': 'PSAX-AV',
  A2C: 'A2C',
  A4C: 'A4C',
};

/** The canonical view name for `raw` (case-insensitive, aliases allowed), or null. */
export function canonicalView(raw: string): string | null {
  return ALIASES[raw.trim().toUpperCase()] ?? null;
}

/**
 * Resolves a label to an index into `classes`. With the canonical classes, aliases and case
 * are forgiven; with caller-given classes the name must match exactly (after trimming), since
 * we cannot know their spelling rules.
 */
export function labelIndex(raw: string, classes: readonly string[]): number {
  if (classes === CANONICAL_CLASSES || sameList(classes, CANONICAL_CLASSES)) {
    const c = canonicalView(raw);
    return c === null ? -1 : classes.indexOf(c);
  }
  return classes.indexOf(raw.trim());
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** "expected one of PLAX, PSAX-AV, A2C, A4C" — the tail of every unknown-label message. */
export function expectedLabels(classes: readonly string[]): string {
  return `expected one of ${classes.join(', ')}`;
}
