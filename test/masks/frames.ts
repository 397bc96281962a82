// Hand-built frames for the mask tests: a sector filled with speckle-like texture on a black
// background, optionally with text, an ECG trace and a body marker outside it. Deterministic
// (a fixed-seed generator), so a failure reproduces.
import { rasterize, type SectorModel } from '../../src/masks/model.js';
import { rng } from '../helpers/random.js';

export { rng };

export const S = 112;

/**
 * A frame whose sector is `model`: inside, tissue-like grey 20..220 with some dark pixels
 * (about 3% under 8, like speckle in blood pools); outside, black. Returns the frame and the
 * true mask.
 */
export function sectorFrame(model: SectorModel, seed = 1, size = S): { frame: Uint8Array; mask: Uint8Array } {
  const mask = rasterize(model, size, size);
  const r = rng(seed);
  const frame = new Uint8Array(size * size);
  for (let i = 0; i < frame.length; i++) {
    if (!mask[i]) continue;
    const u = r();
    frame[i] = u < 0.03 ? Math.floor(r() * 8) : 20 + Math.floor(r() * 200);
  }
  return { frame, mask };
}

/** Draws a block of random 3×5 glyphs (1-px strokes) with its top-left corner at (x, y). */
export function drawText(frame: Uint8Array, x: number, y: number, lines: number, glyphs: number, seed = 7, size = S): void {
  const r = rng(seed);
  for (let l = 0; l < lines; l++) {
    for (let g = 0; g < glyphs; g++) {
      for (let gy = 0; gy < 5; gy++) {
        for (let gx = 0; gx < 3; gx++) {
          const px = x + g * 4 + gx, py = y + l * 7 + gy;
          if (px < 0 || py < 0 || px >= size || py >= size) continue;
          if (r() < 0.55) frame[py * size + px] = 210;
        }
      }
    }
  }
}

/** A horizontal ECG-like trace, 2 px thick, from x0 to x1 around row y. */
export function drawEcg(frame: Uint8Array, x0: number, x1: number, y: number, size = S): void {
  for (let x = x0; x < x1; x++) {
    const spike = x % 23 === 0 ? -5 : x % 23 === 1 ? 3 : 0;
    for (let t = 0; t < 2; t++) {
      const py = y + spike + t;
      if (py >= 0 && py < size) frame[py * size + x] = 180;
    }
  }
}

/** A filled square body marker (side n) at (x, y). */
export function drawMarker(frame: Uint8Array, x: number, y: number, n: number, size = S): void {
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) if (j === 0 || i === 0 || j === n - 1 || i === n - 1 || (i > 3 && j > 3 && i < n - 4 && j < n - 4)) frame[(y + j) * size + x + i] = 230;
}
