// `npm run test:torch`: the checks against a live PyTorch (test/torch/*.torch.test.ts), which need
// /usr/bin/python3 with torch (Debian's python3-torch; .ci/run installs it). `npm test` leaves
// them out and checks the same properties against golden fixtures PyTorch wrote.
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/torch/**/*.torch.test.ts'],
    exclude: [...configDefaults.exclude],
    globalSetup: ['test/global_setup.ts', 'test/torch/global_setup.ts'],
  },
});
