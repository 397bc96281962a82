// Public surface of the synthetic echo benchmark generator.
export { synthesize, isCurrentSynthOutput, SYNTH_DEFAULTS, SYNTH_VERSION, type SynthOptions, type SynthResult } from './synthesize.js';
export type { SynthSampleMeta } from './writer.js';
export { planSamples, patientsPerSplit, SYNTH_SPLITS, DEFAULT_SPLIT_FRACTIONS, FRAMES_PER_PATIENT, type SplitFractions, type SynthSplit } from './plan.js';
export { renderSample, type SampleSpec, type RenderedSample } from './frame.js';
export { SITES, type SiteSpec, type CueElement } from './sites.js';
export { sectorMask, insideSector, toPolar, type SectorGeometry } from './sector.js';
export { Rng, hashSeed } from './rng.js';
