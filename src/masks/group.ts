// Fitting on the group: frames of one scanner site or study share a sector geometry (up to
// small changes of depth and angle), so the frames that fit cleanly vote a consensus fan, and
// a frame whose own fit is far from it — a dense shadow or dropout reaching the fan's edge
// leaves a straight dark boundary from the apex that looks exactly like an edge, or cuts the
// arc short — takes the consensus instead. A group whose clean fits disagree (mixed
// scanners) has no consensus and every frame keeps its own fit.

import type { FanModel, SectorModel } from './model.js';

/** A frame's own fit counts as clean, and votes, from this confidence (IoU with its evidence) up. */
export const CLEAN_CONFIDENCE = 0.9;
/** Clean fits a group needs before it has a consensus. */
export const MIN_VOTERS = 5;
/**
 * An own fit this close to its evidence is kept even when it is far from the consensus: a
 * frame that matches a fan this well is a fan of its own geometry, not a shadowed one (the
 * shadow failures on the synthetic benchmark score 0.57–0.87).
 */
export const OWN_FIT_TRUSTED = 0.95;

const DEG = Math.PI / 180;

/** Per-parameter median and scaled MAD (≈ σ for normal data) of the clean fans. */
export interface Consensus {
  model: FanModel;
  spread: Record<FanParam, number>;
  voters: number;
}

type FanParam = 'apexX' | 'apexY' | 'thetaLeft' | 'thetaRight' | 'radius' | 'innerRadius';
const PARAMS: FanParam[] = ['apexX', 'apexY', 'thetaLeft', 'thetaRight', 'radius', 'innerRadius'];

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * How far a parameter may stray from the consensus: 5 scaled MADs, but at least a floor that
 * covers what frames of one scanner legitimately vary by (the synthetic sites jitter the apex
 * ±1.5 px, the angle ±1.5° and the radius ±3%), and coherence: a group whose spread exceeds
 * `maxSpread` is not one geometry.
 */
function limits(size: number, radius: number): Record<FanParam, { floor: number; maxSpread: number }> {
  const px = size / 112;
  return {
    apexX: { floor: 3 * px, maxSpread: 4 * px },
    apexY: { floor: 3 * px, maxSpread: 4 * px },
    thetaLeft: { floor: 3 * DEG, maxSpread: 3 * DEG },
    thetaRight: { floor: 3 * DEG, maxSpread: 3 * DEG },
    radius: { floor: 0.05 * radius, maxSpread: 0.06 * radius },
    innerRadius: { floor: 3 * px, maxSpread: 4 * px },
  };
}

/** The group's consensus fan from its clean fits (at one analysis size `size`), or null. */
export function groupConsensus(fits: ReadonlyArray<{ model: SectorModel | null; confidence: number }>, size: number): Consensus | null {
  const fans = fits.flatMap((f) => (f.model?.kind === 'fan' && f.confidence >= CLEAN_CONFIDENCE ? [f.model] : []));
  if (fans.length < MIN_VOTERS) return null;
  const model: FanModel = { kind: 'fan', apexX: 0, apexY: 0, thetaLeft: 0, thetaRight: 0, radius: 0, innerRadius: 0 };
  const spread = {} as Record<FanParam, number>;
  for (const p of PARAMS) {
    const v = fans.map((f) => f[p]);
    const m = median(v);
    model[p] = m;
    spread[p] = 1.4826 * median(v.map((x) => Math.abs(x - m)));
  }
  // a consensus of an inner arc only when most voters saw one
  if (fans.filter((f) => f.innerRadius > 0).length * 2 < fans.length) model.innerRadius = 0;
  const lim = limits(size, model.radius);
  if (PARAMS.some((p) => spread[p] > lim[p].maxSpread)) return null;
  return { model, spread, voters: fans.length };
}

/** Whether a frame's own fit is one of the group's geometry (every parameter within its limit). */
export function agreesWith(m: SectorModel | null, c: Consensus, size: number): boolean {
  if (!m || m.kind !== 'fan') return false;
  const lim = limits(size, c.model.radius);
  return PARAMS.every((p) => Math.abs(m[p] - c.model[p]) <= Math.max(lim[p].floor, 5 * c.spread[p]));
}

/** 'own' when the frame keeps its fit, 'group' when the consensus replaces it. */
export function chooseSource(own: { model: SectorModel | null; confidence: number }, c: Consensus | null, size: number): 'own' | 'group' {
  if (!c) return 'own';
  if (own.model && own.confidence >= OWN_FIT_TRUSTED) return 'own';
  return agreesWith(own.model, c, size) ? 'own' : 'group';
}
