import type { ExportOptions } from './options/export.js';
import type { ExportResult } from './pipeline.js';

/**
 * runExport, with the bridge started before the pipeline's modules load (~0.5 s) when its venv is
 * installed: Python's start-up is the first thing on the export's critical path. The CLI's export
 * command and exportModel both start here.
 */
export async function startExport(options: ExportOptions): Promise<ExportResult> {
  const { startInstalledBridge } = await import('./bridge/session.js');
  const bridge = startInstalledBridge(options);
  // loading the pipeline blocks the event loop for ~0.5 s: spawn Python first
  await bridge.spawned;
  const { runExport } = await import('./pipeline.js');
  return runExport(options, { bridge });
}
