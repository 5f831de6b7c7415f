import { buildFixtures, FIXTURE_NAMES } from '../fixtures/models.mjs';

/**
 * Installs the pinned bridge venv if needed (first run: a few minutes) and builds every fixture
 * model once, before any test file runs.
 */
export default async function setup(): Promise<void> {
  const started = performance.now();
  await buildFixtures(FIXTURE_NAMES, (line) => {
    if (process.env.CI || process.env.RAPIDFIT_EXPORT_VERBOSE_SETUP) process.stderr.write(`[setup] ${line}\n`);
  });
  process.stderr.write(
    `[setup] bridge venv and fixtures ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
