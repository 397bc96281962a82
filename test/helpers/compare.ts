// Closeness checks that report the worst element, so a failure says where and by how much.
import { expect } from 'vitest';

export interface CloseOptions {
  rtol: number;
  atol: number;
}

/** Asserts |got − want| ≤ atol + rtol·|want| elementwise. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, o: CloseOptions, what = 'values'): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const excess = Math.abs(g - w) - (o.atol + o.rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}[${worst}] = ${got[worst]} but expected ${want[worst]} (rtol ${o.rtol}, atol ${o.atol})`);
  }
}
