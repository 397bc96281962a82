// Lays out one frame's scanner metadata for a site: random-content text blocks, the preset
// label, the logo, an ECG trace, depth ticks and a grey bar. Everything here is drawn into
// the background layer; the frame composer keeps it only outside the sector, so the sector
// never carries metadata and the background never carries anatomy.

import { drawBitmap, drawDepthTicks, drawEcg, drawGreyBar, drawText, makeFont, makeLogo, type GlyphFont } from './metadata.js';
import type { Rng } from './rng.js';
import type { SectorGeometry } from './sector.js';
import { PRESET_GLYPHS, type SiteSpec } from './sites.js';

const fonts = new Map<string, GlyphFont>();

function siteFont(site: SiteSpec): GlyphFont {
  const f = site.style.font;
  const key = `${f.seed}:${f.w}x${f.h}:${f.count}`;
  let font = fonts.get(key);
  if (!font) fonts.set(key, (font = makeFont(f.seed, f.count, f.w, f.h)));
  return font;
}

/** Logo bitmap: the site's fixed logo, or (when the logo is the cue) one of four variants. */
export function logoBits(site: SiteSpec, cueClass: number | null): Uint8Array {
  const l = site.style.logo;
  return makeLogo(cueClass === null ? l.seed : l.seed * 16 + cueClass + 1, l.w, l.h);
}

/**
 * Draws the metadata of one frame into bg: [size, size] f32 grey levels.
 * `cueClass` selects the preset string or logo variant for the site's cue element.
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
  const font = siteFont(site);
  const textValue = rng.range(st.textValue[0], st.textValue[1]);

  for (const b of st.blocks) {
    for (let line = 0; line < b.lines; line++) {
      // ragged lines, like real patient/date/setting text
      const len = Math.max(2, b.glyphs - rng.int(4));
      const glyphs = Array.from({ length: len }, () => rng.int(font.glyphs.length));
      drawText(bg, size, font, glyphs, at(b.x), at(b.y) + line * (font.h + 2) * u, textValue, u);
    }
  }
  if (st.preset) {
    const cls = site.cue === 'preset' ? cueClass : rng.int(PRESET_GLYPHS.length);
    drawText(bg, size, font, PRESET_GLYPHS[cls]!, at(st.preset.x), at(st.preset.y), textValue, u * st.preset.unit);
  }
  const l = st.logo;
  drawBitmap(bg, size, logoBits(site, site.cue === 'logo' ? cueClass : null), l.w, l.h, at(l.x), at(l.y), l.value, u);

  const e = st.ecg;
  drawEcg(bg, size, at(e.x0), at(e.x1), at(e.y), e.amp * s, rng.range(22, 40) * s, rng.float(), e.value);

  drawDepthTicks(bg, size, g, st.ticks.side, pxPerCm, st.ticks.gap * s, st.ticks.style, st.ticks.value);
  if (st.greyBar) drawGreyBar(bg, size, at(st.greyBar.x), at(st.greyBar.y), st.greyBar.w * u, at(st.greyBar.h));

  if (st.floor > 0) {
    for (let i = 0; i < bg.length; i++) bg[i] = Math.max(bg[i]!, rng.float() * st.floor);
  }
}
