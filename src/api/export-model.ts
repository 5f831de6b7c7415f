import { resolveExportOptions, type ExportModelOptions, type ExportOptions } from '../options/export.js';
import type { ExportResult } from '../pipeline.js';

export type { ExportModelOptions } from '../options/export.js';
export type { ExportResult } from '../pipeline.js';
export type { GateSpec } from '../plan/gate-spec.js';

/** The pipeline's options from a library caller's: the CLI's defaults, validated, silent (no renderer output). */
export function exportOptionsFor(modelDir: string, options: ExportModelOptions = {}): ExportOptions {
  return resolveExportOptions(modelDir, options, 'api');
}

/**
 * Exports, quantizes and verifies a RapidFit (or Hugging Face) model into a bundle, as
 * `rapidfit-export <model_dir>` does, without printing. Throws InputError (bad model or options),
 * GateError (a parity gate failed: the candidate is in `<outDir>.unverified`, `error.payload` holds the
 * result) or EnvironmentError (Python bridge).
 */
export async function exportModel(modelDir: string, options: ExportModelOptions = {}): Promise<ExportResult> {
  const resolved = exportOptionsFor(modelDir, options);
  const { startExport } = await import('../export-run.js');
  return startExport(resolved);
}
