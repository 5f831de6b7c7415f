import { defineConfig } from 'vitest/config';

/** `npm run test:large`: only the >2 GB model end to end (about 3 minutes on 2 cores). */
export default defineConfig({
  test: {
    include: ['test/large/**/*.test.ts'],
    globalSetup: ['test/temp-root.ts', 'test/global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
