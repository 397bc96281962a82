// The live-PyTorch suite (`npm run test:torch`, vitest.torch.config.ts): torch runs in Debian's
// Python (/usr/bin/python3 with python3-torch; `python3` on PATH may be another Python). These
// tests need torch and fail without it; `npm test` checks the same properties against golden
// fixtures instead (scripts/torch/golden_fixtures.py).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../nn/resnet_parity.js';

export const PY = '/usr/bin/python3';

/** Runs scripts/torch/<script> with `args` and returns its stdout; throws with its stderr on failure. */
export function runTorchScript(script: string, args: string[], timeoutMs = 300_000): string {
  const r = spawnSync(PY, [path.join(ROOT, 'scripts/torch', script), ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`scripts/torch/${script} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}
