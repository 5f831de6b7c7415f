import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temporary root per test run (RFE_TEST_TMP, inherited by the test workers): every scratch
 * directory of the tests goes below it and is removed when the run ends, so the large-model tests do
 * not leave gigabytes behind. RFE_KEEP_TEST_TMP=1 keeps it for debugging.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'rfe-tests-'));
  process.env.RFE_TEST_TMP = root;
  return () => {
    if (process.env.RFE_KEEP_TEST_TMP) process.stderr.write(`[teardown] test files kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
}
