import { resolve } from 'node:path';
import type { BundleVerification } from '../verify/bundle-check.js';
import { gatesFromManifest, parityGateError } from '../verify/gates.js';

export type { BundleVerification } from '../verify/bundle-check.js';

export interface VerifyBundleOptions {
  /** Called with progress lines (graphs run, tokenizer parity). */
  onProgress?: (line: string) => void;
}

/**
 * Checks a bundle without Python, as `rapidfit-export verify` does: every file against the manifest,
 * the tokenizer in Node against the stored Python tokens, and every graph (per task and multihead)
 * re-run on the stored samples at the gates the bundle was built with. Returns the metrics and gates;
 * throws InputError when the bundle does not match its manifest and GateError (`error.payload`: the
 * verification) when a gate fails.
 */
export async function verifyBundle(dir: string, options: VerifyBundleOptions = {}): Promise<BundleVerification> {
  const root = resolve(dir);
  const { verifyBundle: checkBundle } = await import('../verify/bundle-check.js');
  const verification = await checkBundle(root, gatesFromManifest, options.onProgress);
  if (!verification.passed) {
    const error = parityGateError(verification.tasks, { file: root });
    error.payload = verification;
    throw error;
  }
  return verification;
}
