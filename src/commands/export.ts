import { EXPORT_OPTIONS, resolveExportOptions, type ExportOptions } from '../options/export.js';
import type { ExportResult } from '../pipeline.js';
import { defineCommand, print } from './command.js';
// the pipeline (listr2, the bridge, onnxruntime-node) is imported when the command runs

function summaryLines(result: ExportResult): string {
  const diff = (value: number | null) => (value === null ? 'n/a' : value.toExponential(2));
  return [
    `bundle written to ${result.outDir} (verified)`,
    ...result.parity.map(
      (p) =>
        `  ${p.task}: FP32 max abs diff ${diff(p.fp32MaxAbsDiff)}` +
        (p.int8Top1Agreement === null ? '' : `, INT8 top-1 agreement ${(p.int8Top1Agreement * 100).toFixed(1)}%`) +
        (p.fp16MaxAbsDiff === undefined ? '' : `, FP16 max abs diff ${diff(p.fp16MaxAbsDiff)}`),
    ),
    ...(result.warnings ?? []).map((warning) => `warning: ${warning}`),
  ].join('\n');
}

/** `rapidfit-export [export] <model_dir>`: the default command. */
export const exportCommand = defineCommand<typeof EXPORT_OPTIONS, ExportOptions>({
  name: 'export',
  usage: '<model_dir>',
  summary: 'export, quantize, verify and write the bundle',
  description: `Export a RapidFit model (or a plain Hugging Face sequence classifier) to ONNX, quantize it to INT8,
verify both against PyTorch and write the bundle atomically. "export" may be left out:
rapidfit-export <model_dir> [options] is the same command.`,
  options: EXPORT_OPTIONS,
  maxPositionals: 1,
  required: {
    missing: 'no model directory given',
    hint: 'rapidfit-export ./my_model (see rapidfit-export export --help)',
  },
  parse: (input, [modelDir = '']) => resolveExportOptions(modelDir, input, 'cli'),
  async run({ options }) {
    const { startExport } = await import('../export-run.js');
    const result = await startExport(options);
    print(options.json, { ...result, exitCode: 0 }, summaryLines(result));
  },
});
