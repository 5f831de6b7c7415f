import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULTS, describeZodError, exportOptionsSchema, type ExportOptions } from '../config/options.js';
import { InputError } from '../errors.js';
import { parseGateSpec, readGatesFile } from '../verify/gates.js';
import { defineCommand, flag, isOn, negatable, print, repeated, valued, type Values } from './command.js';
import {
  BRIDGE_OPTIONS,
  bridgeTimeoutSeconds,
  buildQuantizeOptions,
  INT8_BUDGET_OPTION,
  numberOption,
  OUTPUT_OPTIONS,
  QUANTIZE_OPTIONS,
  splitList,
} from './shared-options.js';
// the pipeline (listr2, the bridge, onnxruntime-node) is imported when the command runs

export const EXPORT_OPTIONS = {
  out: valued('<dir>', 'bundle directory, replaced atomically (default: <model_dir>-onnx beside the model)', {
    short: 'o',
  }),
  tasks: valued('<a,b>', 'export only these tasks (default: all)'),
  'task-name': valued('<name>', 'task name for a plain Hugging Face model (default: the directory name)'),
  opset: valued('<n>', `ONNX opset (default ${DEFAULTS.opset}; 14 to 23, 18+ with --exporter dynamo)`),
  'max-length': valued(
    '<n>',
    `tokenizer max_length recorded in configs and used for verification (default ${DEFAULTS.maxLength})`,
  ),
  exporter: valued('<name>', 'torchscript (default) or dynamo'),
  'fp32-tolerance': valued('<x>', `FP32 gate: max abs logit diff vs PyTorch (default ${DEFAULTS.fp32Tolerance})`),
  'int8-top1': valued('<x>', `INT8 gate: top-1 agreement with PyTorch (default ${DEFAULTS.int8Top1})`),
  quantize: valued('<mode>', 'int8 (default): also write <task>_int8.onnx; none: FP32 only'),
  fp16: flag(
    'also write <task>_fp16.onnx (and multihead_fp16.onnx): float16 weights and compute,\nfloat32 inputs and outputs, for GPU/WebGPU deploys; gated at max abs diff <= 1e-2, top-1 >= 0.999',
  ),
  int8: valued(
    '<method>',
    "auto (default): per model, the fastest INT8 mix that keeps PyTorch's predictions on\ncalibration texts (judged on other texts); or one method for every MatMul:\ndynamic (ORT's quantize_dynamic, bit-exact), per-token, weight-only,\nweight-only-10, weight-only-12",
  ),
  ...INT8_BUDGET_OPTION,
  latency: flag(
    'measure every variant at batch 1 and 32 for the report (~30 s on MiniLM;\non by default with --fp16); auto reports the batch-1 speed of its choice anyway',
  ),
  'no-latency': flag('no latency measurement, even with --fp16'),
  gate: repeated(
    '<spec>',
    'override a gate, globally or per task (repeatable):\n[task.]fp32|int8|fp16.max_abs|top1=<x>, e.g. --gate spam.int8.top1=0.95',
  ),
  'gates-file': valued('<f>', 'gates as JSON: {"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}'),
  junit: valued('<file>', 'also write the gates as JUnit XML (one test case per task and gate)'),
  'samples-limit': valued('<n>', 'verify on the first n embedded samples only'),
  samples: valued(
    '<file>',
    'more verification texts: .txt (one per line) or .jsonl with "text" and\noptional "labels": {"task": "label"} (gold labels give accuracy)',
  ),
  'external-data': flag('store weights in <task>_weights.bin (automatic past 2 GB)'),
  force: flag('replace an output directory that is not a previous bundle'),
  ...QUANTIZE_OPTIONS,
  ...BRIDGE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

/** Schema keys whose flag is not their kebab-case name. */
const FLAG_NAMES = { outDir: '--out', sampleLimit: '--samples-limit', bridgeTimeoutSeconds: '--bridge-timeout' };

export type ExportValues = Values<typeof EXPORT_OPTIONS>;

/** The library's export options from the command's values: defaults, number parsing, gates, then the zod schema. */
export function buildExportOptions(modelDir: string, values: ExportValues): ExportOptions {
  const candidate = {
    modelDir,
    outDir: values.out ?? join(dirname(resolve(modelDir)), `${basename(resolve(modelDir))}-onnx`),
    tasks: splitList(values.tasks),
    taskName: values['task-name'],
    opset: numberOption(values, 'opset', DEFAULTS.opset),
    maxLength: numberOption(values, 'max-length', DEFAULTS.maxLength),
    exporter: values.exporter ?? DEFAULTS.exporter,
    fp32Tolerance: numberOption(values, 'fp32-tolerance', DEFAULTS.fp32Tolerance),
    int8Top1: numberOption(values, 'int8-top1', DEFAULTS.int8Top1),
    quantize: values.quantize ?? 'int8',
    fp16: values.fp16 ?? false,
    int8: values.int8 ?? DEFAULTS.int8,
    int8Budget: numberOption(values, 'int8-budget', DEFAULTS.int8Budget),
    latency: values.latency ? true : values['no-latency'] ? false : (values.fp16 ?? false),
    quantization: buildQuantizeOptions(values, 'export'),
    gates: [
      ...(values['gates-file'] ? readGatesFile(values['gates-file']) : []),
      ...(values.gate ?? []).map((text) => {
        try {
          return parseGateSpec(text);
        } catch (error) {
          throw new InputError((error as Error).message);
        }
      }),
    ],
    junit: values.junit ? resolve(values.junit) : undefined,
    samples: values.samples ? resolve(values.samples) : undefined,
    sampleLimit: values['samples-limit'] === undefined ? undefined : numberOption(values, 'samples-limit', 0),
    python: values.python,
    bridgeTimeoutSeconds: bridgeTimeoutSeconds(values),
    force: values.force,
    externalData: values['external-data'],
    progress: isOn(values, 'progress'),
    json: values.json,
    verbose: values.verbose,
  };
  const parsed = exportOptionsSchema.safeParse(candidate);
  if (!parsed.success)
    throw new InputError(describeZodError(parsed.error, FLAG_NAMES), { hint: 'see rapidfit-export export --help' });
  return parsed.data;
}

/** `rapidfit-export [export] <model_dir>`: the default command. */
export const exportCommand = defineCommand({
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
  async run({ positionals: [modelDir = ''], values }) {
    const options = buildExportOptions(modelDir, values);
    const { startExport } = await import('../export-run.js');
    const result = await startExport(options);
    const summary = [
      `bundle written to ${result.outDir} (verified)`,
      ...result.parity.map(
        (p) =>
          `  ${p.task}: FP32 max abs diff ${p.fp32MaxAbsDiff === null ? 'n/a' : p.fp32MaxAbsDiff.toExponential(2)}` +
          (p.int8Top1Agreement === null ? '' : `, INT8 top-1 agreement ${(p.int8Top1Agreement * 100).toFixed(1)}%`) +
          (p.fp16MaxAbsDiff === undefined
            ? ''
            : `, FP16 max abs diff ${p.fp16MaxAbsDiff === null ? 'n/a' : p.fp16MaxAbsDiff.toExponential(2)}`),
      ),
    ].join('\n');
    print(options.json, { ...result, exitCode: 0 }, summary);
  },
});
