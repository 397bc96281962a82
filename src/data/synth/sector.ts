// Fan-shaped ultrasound sector geometry. The probe sits at the apex; beams leave it within
// ±halfAngle of straight down; the sector spans depths innerRadius..radius from the apex. An
// apex above the image plus an innerRadius gives the curved-top, trapezoid-like sectors some
// scanners draw — the o.o.d. site uses that to differ in geometry, not only in metadata.

/** All lengths in pixels, angles in radians; pixel (x, y) has its centre at (x + 0.5, y + 0.5). */
export interface SectorGeometry {
  apexX: number;
  apexY: number;
  /** Half the opening angle. */
  halfAngle: number;
  radius: number;
  innerRadius: number;
}

/** Polar position of a point relative to the apex: r in pixels, theta 0 = straight down, + = right. */
export function toPolar(g: SectorGeometry, x: number, y: number): { r: number; theta: number } {
  const dx = x - g.apexX;
  const dy = y - g.apexY;
  // sqrt, not Math.hypot: this runs per pixel and hypot is several times slower in V8
  return { r: Math.sqrt(dx * dx + dy * dy), theta: Math.atan2(dx, dy) };
}

export function insideSector(g: SectorGeometry, x: number, y: number): boolean {
  const { r, theta } = toPolar(g, x, y);
  return r <= g.radius && r >= g.innerRadius && Math.abs(theta) <= g.halfAngle;
}

/** mask: [size, size] u8, 1 where the pixel centre lies inside the sector. */
export function sectorMask(g: SectorGeometry, size: number): Uint8Array {
  const m = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) m[y * size + x] = insideSector(g, x + 0.5, y + 0.5) ? 1 : 0;
  }
  return m;
}

/** Point at depth r along the beam at angle theta. */
export function fromPolar(g: SectorGeometry, r: number, theta: number): { x: number; y: number } {
  return { x: g.apexX + r * Math.sin(theta), y: g.apexY + r * Math.cos(theta) };
}
