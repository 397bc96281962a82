// Donor choice for BackMix: uniform with replacement from the masked subset, fresh for every
// sample every time (the reference's np.random.randint(0, len(frame_to_sample))); the source
// itself may be drawn (j = i), which then keeps its own background.
import type { AugRng } from './rng.js';

/** A dataset index drawn uniformly from `pool`. */
export function drawDonor(rng: AugRng, pool: readonly number[]): number {
  if (pool.length === 0) throw new RangeError('BackMix: the masked subset is empty, so there is no donor to draw');
  return pool[rng.int(pool.length)]!;
}
