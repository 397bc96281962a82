// Timing for `wgml bench`: each engine's case is one benny suite (Benchmark.js underneath), run
// after the caller's warm-up, with the function awaiting GPU completion itself. Benny's median
// sample is the reported time. A call slower than `directAboveMs` in its warm-up is timed
// directly instead (Benchmark.js adds a calibration cycle, too costly for a 30–100 s training
// step on a software GPU); the result says which.
import b from 'benny';

export interface Timed {
  ms: number;
  samples: number;
  /** 'benny' or 'direct' (slow case: plain performance.now() around each awaited call). */
  timer: 'benny' | 'direct' | 'first-call-only';
}

export function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timeCase(
  name: string,
  fn: () => Promise<void>,
  o: { samples: number; warmupMs: number; steadySample?: boolean; directAboveMs: number; slowSamples: number },
): Promise<Timed> {
  if (o.warmupMs > o.directAboveMs) {
    // The steady warm-up call (see suite.ts steady()) already ran after compilation: it counts.
    const ts: number[] = o.steadySample ? [o.warmupMs] : [];
    while (ts.length < o.slowSamples) {
      const t = performance.now();
      await fn();
      ts.push(performance.now() - t);
    }
    return { ms: median(ts), samples: ts.length, timer: 'direct' };
  }
  // benny's add() calls the case function once, unawaited, to learn its type; a second call
  // running beside the first would overlap two GPU workloads (or dispose a tensor a pending
  // read still needs). So the case is given in benny's setup form, and that probe call is a no-op.
  let probed = false;
  const once = () => {
    if (!probed) {
      probed = true;
      return Promise.resolve();
    }
    return fn();
  };
  const summary = await b.suite(
    name,
    b.add(name, () => once, { minSamples: o.samples, maxTime: 0.001, initCount: 1, delay: 0 }),
    // benny prints a line per cycle by default; the bench prints its own summary instead.
    b.cycle(() => ''),
    b.complete(() => undefined),
  );
  const r = summary.results[0]!;
  return { ms: r.details.median * 1e3, samples: r.samples, timer: 'benny' };
}
