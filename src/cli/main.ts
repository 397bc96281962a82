#!/usr/bin/env node
// `wgml`: the command-line entry. Each command lives in its own file; this one only wires them.
import { Command, CommanderError } from 'commander';
import { registerInfo } from './info.js';
import { registerSynth } from './synth.js';
import { registerAugment } from './augment.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerPredict } from './predict.js';
import { registerGradcam } from './gradcam.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('wgml')
    .description('WebGPU deep learning in Node: ResNet18 echo view classifiers trained with BackMix')
    .version('0.1.0')
    .option('--adapter <kind>', 'auto | gpu | lavapipe | swiftshader (default: $WGML_ADAPTER or auto)')
    .showHelpAfterError();
  registerInfo(program);
  registerSynth(program);
  registerAugment(program);
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerGradcam(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    console.error(`wgml: ${(e as Error).message}`);
    if (process.env.WGML_DEBUG) console.error((e as Error).stack);
    process.exit(1);
  }
}

await main();
