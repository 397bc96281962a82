// One Runtime per test worker. GPU tests never skip: when no adapter opens, the error (which
// says what was tried and how to install a software GPU) fails the test.
import { Runtime } from '../../src/kernels/runtime.js';

let shared: Promise<Runtime> | null = null;

export function gpuRuntime(): Promise<Runtime> {
  shared ??= Runtime.create({ adapter: process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER });
  return shared;
}
