// Background treatments a training run can apply. All run on the GPU in shaders/augment.wgsl,
// whose M_* constants are the METHOD override values.
//
// Reference semantics (kitbransby/BackMix utils/dataset_tmed2_4_class.py), applied after
// rotation / flip / brightness-contrast to samples of the masked subset only, with m the
// source's augmented mask (1 = sector):
//   backmix    bg = donor_j · (1 − m_j), donor j raw (not augmented), uniform from the subset
//   black      bg = 0
//   noise      bg(p) = N[π(p)], N a fixed U(0,30) field drawn once from the seed, π a fresh
//              pseudo-random permutation of all S² positions per sample (see augment.wgsl)
//   shuffle    the augmented frame's own background values permuted among background positions
//   bokeh      bg = 0.74 · bg (what the reference calls bokeh: no blur)
// Additions that are not in the reference code:
//   bokeh-blur bg = Gaussian blur of the background only (mask-normalised), σ configurable
//   cutmix     Yun et al. 2019: per batch with probability p, one box of area ratio 1−λ,
//              λ ~ Beta(1,1), pasted from a permuted partner in the batch; soft targets by area
//   none       plain augmentation

import { shaderConst } from '../kernels/shader_layout.js';

export const METHODS = ['none', 'backmix', 'black', 'noise', 'shuffle', 'bokeh', 'bokeh-blur', 'cutmix'] as const;
export type Method = (typeof METHODS)[number];

/** Shader METHOD override value per method: augment.wgsl's constant M_<NAME> ('-' as '_'). */
export const METHOD_ID = Object.fromEntries(
  METHODS.map((m) => [m, shaderConst('augment.wgsl', `M_${m.toUpperCase().replace(/-/g, '_')}`)]),
) as Record<Method, number>;

/** Methods that replace the background and so need a sector mask (they act on the subset only). */
export function needsMask(m: Method): boolean {
  return m !== 'none' && m !== 'cutmix';
}

export function parseMethod(name: string): Method {
  const m = name.toLowerCase() as Method;
  if (!(METHODS as readonly string[]).includes(m)) {
    throw new RangeError(`unknown augmentation method '${name}': expected one of ${METHODS.join(', ')}`);
  }
  return m;
}

/** The reference's bokeh factor ("the proportion of pixels which are in the background"). */
export const BOKEH_FACTOR = 0.74;
/** Upper bound of the reference's uniform noise field. */
export const NOISE_MAX = 30;
