import { join } from 'node:path';
import { execa } from 'execa';
import { findPython } from './bridge/python.js';
import { ensureBridgeEnvironment } from './bridge/venv.js';
import { PACKAGE_ROOT } from './paths.js';

export const FIXTURES_DIR = process.env.RAPIDFIT_EXPORT_FIXTURES ?? join(PACKAGE_ROOT, '.fixtures');
export const FIXTURE_NAMES = ['tiny-mean-gelu', 'tiny-cls-relu', 'tiny-max-tanh', 'tiny-hf-seqcls', 'minilm-3task', 'minilm-fortunes'] as const;
/** Built only on demand (npm run test:large): over 2 GB of weights. */
export const LARGE_FIXTURE = 'large-xlmr';
export type FixtureName = (typeof FIXTURE_NAMES)[number] | typeof LARGE_FIXTURE;

/**
 * Builds fixture models (fixtures/build_fixtures.py, run in the bridge venv with the real rapidfit
 * and transformers) into .fixtures/<name>; already-built ones are reused. Returns the venv's python.
 */
export async function buildFixtures(names: readonly FixtureName[], onProgress: (line: string) => void = () => {}): Promise<string> {
  const environment = await ensureBridgeEnvironment(await findPython(), onProgress);
  await execa(environment.python, [join(PACKAGE_ROOT, 'fixtures', 'build_fixtures.py'), '--out-dir', FIXTURES_DIR, '--only', names.join(',')], {
    env: { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', PYTHONWARNINGS: 'ignore', TRANSFORMERS_VERBOSITY: 'error' },
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: 20 * 60_000,
  });
  return environment.python;
}

export function fixturePath(name: FixtureName): string {
  return join(FIXTURES_DIR, name);
}

/**
 * The held-out texts of `minilm-fortunes` (real fortunes, never trained on) as a `--samples` file:
 * one {"text", "labels": {"topic"?, "lang"}} per line; non-English texts have no topic label.
 */
export function fortunesHeldoutPath(): string {
  return join(fixturePath('minilm-fortunes'), 'heldout.jsonl');
}
