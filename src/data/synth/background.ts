// Lays out one frame's scanner metadata for a site: random-content text blocks, the logo,
// an ECG trace, depth ticks, a grey bar and the body marker; the body marker and the site's
// cue element (font or ECG morphology) are styled by the cue class. Everything here is drawn into the background layer; the frame
// composer keeps it only outside the sector, so the sector never carries metadata and the
// background never carries anatomy.

import { drawBitmap, drawDepthTicks, drawEcg, drawGreyBar, drawText, makeFont, makeLogo, markerBitmap, MARKER_SIZE, type GlyphFont } from './metadata.js';
import type { Rng } from './rng.js';
import type { SectorGeometry } from './sector.js';
import { CUE_MARKERS, CUE_TYPEFACES, type SiteSpec } from './sites.js';

const fonts = new Map<string, GlyphFont>();

/** The site's own (plain) font, or, when the font is the cue, the cue class's typeface. */
export function textFont(site: SiteSpec, cueClass: number): GlyphFont {
  const f = site.style.font;
  const face = site.cue === 'font' ? CUE_TYPEFACES[cueClass]! : 'plain';
  const key = `${f.seed}:${face}`;
  let font = fonts.get(key);
  if (!font) fonts.set(key, (font = makeFont(f.seed, f.count, f.w, f.h, face)));
  return font;
}

/**
 * Draws the metadata of one frame into bg: [size, size] f32 grey levels.
 * `cueClass` selects the font or ECG morphology for the site's cue element.
 * `pxPerCm` spaces the depth ticks (1 cm apart, as scanners draw them).
 */
export function drawBackground(
  bg: Float32Array,
  size: number,
  site: SiteSpec,
  g: SectorGeometry,
  rng: Rng,
  cueClass: number,
  pxPerCm: number,
): void {
  const st = site.style;
  const u = Math.max(1, Math.round(size / 112)); // glyph pixel size
  const s = size / 112; // layout scale
  const at = (v: number) => Math.round(v * s);
  const font = textFont(site, cueClass);
  const textValue = rng.range(st.textValue[0], st.textValue[1]);

  for (const b of st.blocks) {
    for (let line = 0; line < b.lines; line++) {
      // ragged lines, like real patient/date/setting text
      const len = Math.max(2, b.glyphs - rng.int(4));
      const glyphs = Array.from({ length: len }, () => rng.int(font.glyphs.length));
      drawText(bg, size, font, glyphs, at(b.x), at(b.y) + line * (font.h + 2) * u, textValue, u);
    }
  }
  const l = st.logo;
  drawBitmap(bg, size, makeLogo(l.seed, l.w, l.h), l.w, l.h, at(l.x), at(l.y), l.value, u);

  const e = st.ecg;
  const morphology = site.cue === 'ecg' ? cueClass : e.morphology;
  drawEcg(bg, size, at(e.x0), at(e.x1), at(e.y), e.amp * s, rng.range(22, 40) * s, rng.float(), e.value, morphology, e.thickness * u);

  drawDepthTicks(bg, size, g, st.ticks.side, pxPerCm, st.ticks.gap * s, st.ticks.style, st.ticks.value);
  if (st.greyBar) drawGreyBar(bg, size, at(st.greyBar.x), at(st.greyBar.y), st.greyBar.w * u, at(st.greyBar.h));

  // every site shows the body marker, and it always follows the cue class
  const bm = st.bodyMarker;
  drawBitmap(bg, size, markerBitmap(CUE_MARKERS[cueClass]!), MARKER_SIZE, MARKER_SIZE, at(bm.x), at(bm.y), bm.value, u);

  if (st.floor > 0) {
    for (let i = 0; i < bg.length; i++) bg[i] = Math.max(bg[i]!, rng.float() * st.floor);
  }
}
