// The semi-supervised subset: which training samples use their sector mask (BackMix and the
// other background methods act on these only, and donors come only from these).
//
// Reference (kitbransby/BackMix utils/dataset_tmed2_4_class_semi*.py): frames sorted by file
// name; sample at position i has a mask iff i % int(1/f) == 0. `int` truncates, so this uses
// Math.trunc(1/f) on the same IEEE double: for the paper's fractions (1, .5, .2, .1, .05, .01)
// that equals round(1/f); for others (f = 0.4 → 2, f = 0.6 → 1) truncation is what the reference does.
//
// Samples lacking a mask: the reference requires every frame to have one. Here the stride
// picks positions in the pool sorted by sample id; a picked sample without a mask is left out
// of the subset (listed in `missing`) rather than replaced, so which samples are supervised
// never depends on which masks happen to exist. `random` mode instead draws
// round(f·|pool|) samples uniformly (seeded) from the pool's samples that have masks.
import { AugRng } from './rng.js';

export type MaskSubsetMode = 'stride' | 'random';

export interface SubsetSample {
  id: string;
  mask: boolean;
}

export interface MaskSubsetOptions {
  /** Nominal supervised fraction f in [0, 1]; 0 means no sample uses a mask. */
  fraction: number;
  mode?: MaskSubsetMode;
  /** Seed for `random` mode. */
  seed?: number;
  /**
   * Stride mode: take the ranks ≡ offset (mod stride) instead of ≡ 0, so offsets 0..stride−1
   * give disjoint subsets of the same size (the paper's ablation over supervised samples).
   */
  offset?: number;
  /** Dataset indices of the training pool (default: every sample). */
  pool?: readonly number[];
}

export interface MaskSubset {
  fraction: number;
  mode: MaskSubsetMode;
  /** int(1/f) in stride mode, 0 otherwise. */
  stride: number;
  /** Dataset indices in the subset, in sorted-id order. */
  indices: number[];
  /** member[i] = 1 iff dataset sample i is in the subset (length = number of samples). */
  member: Uint8Array;
  /** Dataset indices the stride picked that have no mask (so are not in the subset). */
  missing: number[];
  poolSize: number;
}

/** The reference's `every_N_frames = int(1/sup_fraction)`. */
export function strideForFraction(f: number): number {
  if (!(f > 0 && f <= 1)) throw new RangeError(`fraction must be in (0, 1] for a stride, got ${f}`);
  return Math.trunc(1 / f);
}

/** Pool indices ordered by sample id (the reference's sorted file list). */
export function sortedById(samples: readonly SubsetSample[], pool: readonly number[]): number[] {
  return [...pool].sort((a, b) => {
    const x = samples[a]!.id;
    const y = samples[b]!.id;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

export function selectMaskSubset(samples: readonly SubsetSample[], opts: MaskSubsetOptions): MaskSubset {
  const f = opts.fraction;
  if (!(f >= 0 && f <= 1)) throw new RangeError(`mask fraction must be in [0, 1], got ${f}`);
  const mode = opts.mode ?? 'stride';
  const pool = opts.pool ?? samples.map((_, i) => i);
  for (const i of pool) {
    if (!Number.isInteger(i) || i < 0 || i >= samples.length) throw new RangeError(`mask subset: pool index ${i} outside 0..${samples.length - 1}`);
  }
  const member = new Uint8Array(samples.length);
  const indices: number[] = [];
  const missing: number[] = [];
  const sorted = sortedById(samples, pool);
  let stride = 0;
  const offset = opts.offset ?? 0;
  if (f > 0 && mode === 'stride') {
    stride = strideForFraction(f);
    if (!Number.isInteger(offset) || offset < 0 || offset >= stride) {
      throw new RangeError(`mask subset offset must be an integer in 0..${stride - 1} (stride int(1/${f}) = ${stride}), got ${offset}`);
    }
    sorted.forEach((idx, rank) => {
      if (rank % stride !== offset) return;
      if (samples[idx]!.mask) indices.push(idx);
      else missing.push(idx);
    });
  } else if (f > 0 && mode === 'random') {
    if (offset !== 0) throw new RangeError('mask subset offset applies to stride mode only');
    const candidates = sorted.filter((i) => samples[i]!.mask);
    const k = Math.min(Math.round(f * pool.length), candidates.length);
    const rng = AugRng.forStream(opts.seed ?? 0, 'mask-subset');
    // Partial Fisher–Yates: the first k entries become a uniform k-subset.
    for (let j = 0; j < k; j++) {
      const r = j + rng.int(candidates.length - j);
      [candidates[j], candidates[r]] = [candidates[r]!, candidates[j]!];
    }
    const rankOf = new Map(sorted.map((idx, r) => [idx, r]));
    indices.push(...candidates.slice(0, k).sort((a, b) => rankOf.get(a)! - rankOf.get(b)!));
  } else if (f > 0) {
    throw new RangeError(`unknown mask subset mode '${mode as string}': expected stride or random`);
  }
  for (const i of indices) member[i] = 1;
  return { fraction: f, mode, stride, indices, member, missing, poolSize: pool.length };
}
