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
import { registerMasks } from './masks.js';
import { registerExperiment } from './experiment.js';
import { registerBench } from './bench.js';
import { registerWorker } from './worker.js';
import { DatasetError } from '../data/errors.js';

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
  registerMasks(program);
  registerExperiment(program);
  registerBench(program);
  registerWorker(program);
  return program;
}

/** Whether the command that ran has --skip-bad (train and eval do; predict reads no dataset). */
function offersSkipBad(program: Command): boolean {
  const ran = program.commands.find((c) => process.argv.slice(2).includes(c.name()));
  return !!ran?.options.some((o) => o.long === '--skip-bad');
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    console.error(`wgml: ${(e as Error).message}`);
    if (e instanceof DatasetError && e.skippable && offersSkipBad(program)) console.error('wgml: --skip-bad leaves these records out and lists them');
    if (process.env.WGML_DEBUG) console.error((e as Error).stack);
    process.exit(1);
  }
}

await main();
