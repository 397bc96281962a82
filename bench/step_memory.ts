// GPU memory of one training step: what the backward pass needs (bytes held when the forward
// pass and the loss are recorded: parameters, gradients, Adam moments, inputs, and every tensor
// the tape saved), the most held at once during the step, and what the buffer pool owns. Byte
// counts, not times: they do not move with machine load, so they can be taken on a busy machine.
// "Needed" counts the bytes the tensors asked for (a pool buffer may be bigger); "pool peak" is
// the most the pool owned at any moment of the step. Steps run through Runtime.step (the
// trainer's way: packed once two steps allocate alike, steps 2 and 3 here) unless --unplanned.
//
//   npx tsx bench/step_memory.ts [--adapter lavapipe] [--batch 64] [--width 16] [--stem cifar] [--size 112] [--steps 4] [--unplanned]
import { parseArgs } from 'node:util';
import { Runtime, ResNet18, Adam, Tensor, scope, Tape, crossEntropyLoss, type Stem } from '../src/index.js';

const { values: a } = parseArgs({
  options: {
    adapter: { type: 'string' }, batch: { type: 'string', default: '64' }, width: { type: 'string', default: '16' },
    stem: { type: 'string', default: 'cifar' }, size: { type: 'string', default: '112' }, steps: { type: 'string', default: '4' },
    unplanned: { type: 'boolean', default: false },
  },
});
const [B, width, S, steps] = [Number(a.batch), Number(a.width), Number(a.size), Number(a.steps)];
const rt = await Runtime.create({ adapter: a.adapter });
const model = new ResNet18(rt, { numClasses: 4, width, stem: a.stem as Stem }, 0);
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = new Float32Array(B * S * S).map((_, i) => Math.sin(i));
const labels = Uint32Array.from({ length: B }, (_, i) => i % 4);
const planned = !a.unplanned;
const MB = (b: number) => (b / 1e6).toFixed(1);
console.log(`${a.stem} stem, width ${width}, batch ${B}, ${S}×${S}, adapter ${rt.gpu.info.description ?? ''}, ${planned ? 'Runtime.step' : 'unplanned'}`);
console.log('| step | needed by backward (MB) | peak held (MB) | pool peak in step (MB) | pool owns after (MB) | pool peak / needed |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (let step = 1; step <= steps; step++) {
  rt.pool.resetPeak();
  let needed = 0;
  const run = async () => scope(async () => {
    model.zeroGrad();
    const tape = new Tape().start();
    try {
      const logits = model.forward(Tensor.fromArray(rt, x, [B, 1, S, S], 'x'));
      const { stats } = crossEntropyLoss(logits, { labels: Tensor.fromArray(rt, labels, [B], 'labels'), weights: null });
      needed = rt.pool.stats().bytesRequestedInUse;
      tape.backward();
      opt.update();
      await stats.toArray();
    } finally {
      tape.clear();
    }
  });
  if (planned) await rt.step(run);
  else await run();
  const s = rt.pool.stats();
  console.log(`| ${step} | ${MB(needed)} | ${MB(s.peakBytesInUse)} | ${MB(s.peakBytesAllocated)} | ${MB(s.bytesAllocated)} | ${(s.peakBytesAllocated / needed).toFixed(2)} |`);
}
