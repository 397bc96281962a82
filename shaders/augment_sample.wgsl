// One sample's words in sdata ([B][sample_stride()] i32), included by augment.wgsl and
// augment_blur.wgsl. packBatch (src/backmix/augment_params.ts) writes them and reads these
// constants from this file, so the layout is stated only here:
//   header, H_WORDS words: H_SOURCE source slot, H_DONOR donor slot (or NO_SLOT), H_FLAGS
//     flags (F_*), H_ALPHA α (f32 bits, informational), H_KEY permutation key, H_PARTNER
//     cutmix partner (batch position), H_BOX.. cutmix box x1, y1, x2, y2 (half-open);
//   then WARP_TABLES tables of S words (src/backmix/warp_tables.ts), table WARP_X0 X0[S],
//     WARP_Y0 Y0[S], WARP_ADELTA adelta[S], WARP_BDELTA bdelta[S];
//   then the brightness/contrast LUT, 256 u8 in LUT_WORDS words.
// The including shader declares `sdata: array<i32>` and `override S`.

const H_SOURCE: u32 = 0u;
const H_DONOR: u32 = 1u;
const H_FLAGS: u32 = 2u;
const H_ALPHA: u32 = 3u;
const H_KEY: u32 = 4u;
const H_PARTNER: u32 = 5u;
const H_BOX: u32 = 6u;
const H_WORDS: u32 = 16u;
const LUT_WORDS: u32 = 64u;
const NO_SLOT: u32 = 0xffffffffu;

const WARP_X0: u32 = 0u;
const WARP_Y0: u32 = 1u;
const WARP_ADELTA: u32 = 2u;
const WARP_BDELTA: u32 = 3u;
const WARP_TABLES: u32 = 4u;

const F_FLIP: u32 = 1u;
const F_MASKED: u32 = 2u;
const F_HAS_MASK: u32 = 4u;
const F_CUTMIX: u32 = 8u;

fn sample_stride() -> u32 { return H_WORDS + WARP_TABLES * S + LUT_WORDS; }

fn hdr(b: u32, k: u32) -> u32 { return bitcast<u32>(sdata[b * sample_stride() + k]); }
