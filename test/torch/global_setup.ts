// The live-PyTorch suite needs torch: fail at once, saying how to get it, rather than skip.
import { spawnSync } from 'node:child_process';
import { PY } from './torch_utils.js';

export default function setup(): void {
  const r = spawnSync(PY, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    throw new Error(`npm run test:torch needs PyTorch in ${PY} (apt-get install python3-torch): ${why}`);
  }
  console.log(`[wgml torch tests] ${PY}: torch ${r.stdout.trim()}`);
}
