// Prints the adapter the GPU tests run on, once, so CI logs show it (SwiftShader in CI).
import { openGpu } from '../src/kernels/device.js';

export default async function setup(): Promise<void> {
  const gpu = await openGpu({ adapter: process.env.WGML_TEST_ADAPTER ?? process.env.WGML_ADAPTER });
  const i = gpu.info;
  console.log(`[wgml tests] adapter: ${i.name} (${i.kind}, ${i.backend}; vendor ${i.vendor}, ${i.description})`);
  gpu.destroy();
}
