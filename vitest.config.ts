import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/fuzz/**/*.test.ts',
      'test/large/**/*.test.ts',
    ],
    globalSetup: ['test/temp-root.ts', 'test/global-setup.ts'],
    // Integration tests start Python processes and run ONNX Runtime: keep them few and serial-ish.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 30 * 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
