import { resolve } from 'node:path';
import { parseCompareOptions, type CompareBundlesOptions } from '../options/compare.js';
import type { CompareResult } from '../compare/compare.js';

export type { CompareBundlesOptions } from '../options/compare.js';
export type { CompareResult, ReleaseSummary, TaskVariantComparison, VariantLatency } from '../compare/compare.js';
export type { AccuracyChange, ChangedText, LabelMatch, TaskVariantMetrics } from '../compare/metrics.js';

/**
 * Compares two releases of a bundle on the same texts, as `rapidfit-export compare <a> <b>` does,
 * without printing: `a` is the previous release, `b` the new one. Returns the comparison when every
 * gate passes; throws InputError (not a bundle, a manifest mismatch, no common task, a variant one
 * bundle lacks, bad options) or GateError (`error.payload`: the comparison) when a gate fails.
 */
export async function compareBundles(
  a: string,
  b: string,
  options: CompareBundlesOptions = {},
): Promise<CompareResult> {
  const { onProgress, ...input } = options;
  const parsed = parseCompareOptions(input, 'api');
  const { compareReleases } = await import('../compare/compare.js');
  const { releaseGateError } = await import('../compare/gates.js');
  const result = await compareReleases(a, b, parsed, onProgress);
  if (!result.passed) throw releaseGateError(result.comparisons, resolve(b), result);
  return result;
}
