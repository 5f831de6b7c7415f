import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: the tests that need neither Python nor fixtures (seconds). */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    globalSetup: ['test/temp-root.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
