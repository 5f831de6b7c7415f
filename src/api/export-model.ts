import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULTS, exportOptionsSchema, type ExportOptions, type Int8Mode } from '../config/options.js';
import { InputError } from '../errors.js';
import type { ExportResult } from '../pipeline.js';
import type { QuantizeOptions } from '../quantize/options.js';
import { parseGateSpec, type GateSpec } from '../verify/gates.js';
import { parseOptions, resolveQuantizeOptions } from './options.js';

export type { ExportResult } from '../pipeline.js';
export type { GateSpec } from '../verify/gates.js';

/** What `exportModel` takes; every field is optional and defaults as the CLI's flag does (README, "Options"). */
export interface ExportModelOptions {
  /** Bundle directory (default `<model_dir>-onnx` beside the model); replaced atomically. */
  outDir?: string;
  /** Export only these tasks (default: all). */
  tasks?: string[];
  /** Task name of a plain Hugging Face model (default: the directory name). */
  taskName?: string;
  opset?: number;
  maxLength?: number;
  exporter?: 'torchscript' | 'dynamo';
  /** FP32 gate: maximum absolute logit difference vs PyTorch (default 1e-4). */
  fp32Tolerance?: number;
  /** INT8 gate: top-1 agreement with PyTorch (default 0.99). */
  int8Top1?: number;
  /** int8 (default) or none. */
  quantize?: 'int8' | 'none';
  /** Also write <task>_fp16.onnx (and multihead_fp16.onnx), gated like every variant (default false). */
  fp16?: boolean;
  /** How the INT8 graphs are made (default auto). */
  int8?: Int8Mode;
  int8Budget?: number;
  /** Quantizer options (weight type, per channel, op types, ...), over ORT's defaults. */
  quantization?: Partial<QuantizeOptions>;
  /** Gate overrides: `{ task?, comparison, metric, limit }` or the CLI's text, e.g. "spam.int8.top1=0.95". */
  gates?: Array<GateSpec | string>;
  /** Also write the gates as JUnit XML to this file. */
  junit?: string;
  /** More verification texts: .txt or .jsonl. */
  samples?: string;
  sampleLimit?: number;
  /** Interpreter the bridge venv is created from (default $RAPIDFIT_EXPORT_PYTHON, else python3). */
  python?: string;
  /** Store weights in external data files (default: only past 2 GB). */
  externalData?: boolean;
  /** Replace an output directory that is not a previous bundle. */
  force?: boolean;
  /** Measure every variant's latency for the report (default: only with fp16). */
  latency?: boolean;
  /** Seconds a bridge request may stay silent before the bridge is killed (default 600; 0: no limit). */
  bridgeTimeoutSeconds?: number;
}

function gateSpec(gate: GateSpec | string): GateSpec {
  if (typeof gate !== 'string') return gate;
  try {
    return parseGateSpec(gate);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

/** The pipeline's options: the CLI's defaults, the caller's values, silent (no renderer output). */
export function resolveExportOptions(modelDir: string, options: ExportModelOptions = {}): ExportOptions {
  const model = resolve(modelDir);
  return parseOptions(
    exportOptionsSchema,
    {
      modelDir,
      outDir: resolve(options.outDir ?? join(dirname(model), `${basename(model)}-onnx`)),
      tasks: options.tasks,
      taskName: options.taskName,
      opset: options.opset ?? DEFAULTS.opset,
      maxLength: options.maxLength ?? DEFAULTS.maxLength,
      exporter: options.exporter ?? DEFAULTS.exporter,
      fp32Tolerance: options.fp32Tolerance ?? DEFAULTS.fp32Tolerance,
      int8Top1: options.int8Top1 ?? DEFAULTS.int8Top1,
      quantize: options.quantize ?? 'int8',
      fp16: options.fp16 ?? false,
      int8: options.int8 ?? DEFAULTS.int8,
      int8Budget: options.int8Budget ?? DEFAULTS.int8Budget,
      quantization: resolveQuantizeOptions({
        ...(options.externalData ? { externalData: 'always' as const } : {}),
        ...options.quantization,
      }),
      gates: (options.gates ?? []).map(gateSpec),
      junit: options.junit === undefined ? undefined : resolve(options.junit),
      samples: options.samples === undefined ? undefined : resolve(options.samples),
      sampleLimit: options.sampleLimit,
      python: options.python,
      externalData: options.externalData ?? false,
      force: options.force ?? false,
      latency: options.latency ?? options.fp16 ?? false,
      bridgeTimeoutSeconds: options.bridgeTimeoutSeconds,
      progress: false,
      json: true,
      verbose: false,
    },
    'exportModel options',
  );
}

/**
 * Exports, quantizes and verifies a RapidFit (or Hugging Face) model into a bundle, as
 * `rapidfit-export <model_dir>` does, without printing. Throws InputError (bad model or options),
 * GateError (a parity gate failed: the candidate is in `<outDir>.unverified`, `error.payload` holds the
 * result) or EnvironmentError (Python bridge).
 */
export async function exportModel(modelDir: string, options: ExportModelOptions = {}): Promise<ExportResult> {
  const resolved = resolveExportOptions(modelDir, options);
  const { startExport } = await import('../export-run.js');
  return startExport(resolved);
}
