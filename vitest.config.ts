import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The live-PyTorch tests need torch: `npm run test:torch` (vitest.torch.config.ts) runs them.
    exclude: [...configDefaults.exclude, 'test/torch/**'],
    // One GPU device per worker is already heavy on a 2-core software GPU; forks isolate Dawn's native state.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global_setup.ts'],
  },
});
