import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { GATE_ON, gateSpecSchema, parseGateSpec, readGatesFile, type GateSpec } from '../plan/gate-spec.js';
import { defaultLimit } from '../plan/variants.js';
import { BRIDGE_OPTIONS, OUTPUT_OPTIONS } from './common.js';
import { DEFAULT_QUANTIZE_OPTIONS, type QuantizeOptions } from '../quantize/options.js';
import { INT8_MODES } from '../quantize/policy.js';
import { QUANTIZE_WEIGHT_OPTIONS } from './quantize-weights.js';
import {
  flag,
  group,
  list,
  number,
  parseTable,
  repeated,
  tableSchema,
  text,
  toggle,
  type ApiInput,
  type TableOutput,
} from './table.js';

const EXPORTERS = ['torchscript', 'dynamo'] as const;
const SAMPLES = 'Verification texts';
const INT8 = 'INT8';

/** A gate as the library gives it ({task?, comparison, metric, limit}) or as --gate writes it. */
const gateInput = z.union([gateSpecSchema, z.string()]).transform((value, context): GateSpec => {
  if (typeof value !== 'string') return value;
  try {
    return parseGateSpec(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** One file or several (--samples is repeatable). */
const filesInput = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .pipe(z.array(z.string().min(1, 'a file name is required')));

/** "task=column" pairs (--label-column, repeatable) or the library's {task: column}. */
const labelColumnsInput = z
  .union([z.record(z.string(), z.string()), z.array(z.string())])
  .transform((value, context) => {
    if (!Array.isArray(value)) return value;
    const columns: Record<string, string> = {};
    for (const pair of value) {
      const match = /^([^=]+)=(.+)$/.exec(pair);
      if (match) columns[match[1]!.trim()] = match[2]!.trim();
      else context.addIssue({ code: 'custom', message: `"${pair}": expected <task>=<column>` });
    }
    return columns;
  });

/** `rapidfit-export [export] <model_dir>`: the option table (flags, help, defaults, schema, API types). */
export const EXPORT_OPTIONS = {
  /** Bundle directory (default `<model_dir>-onnx` beside the model); replaced atomically. */
  outDir: text(z.string().min(1).optional(), {
    flag: 'out',
    short: 'o',
    arg: '<dir>',
    help: 'bundle directory, replaced atomically (default: <model_dir>-onnx beside the model)',
  }),
  /** Export only these tasks (default: all). */
  tasks: list(z.array(z.string().min(1)).optional(), { arg: '<a,b>', help: 'export only these tasks (default: all)' }),
  /** Task name of a plain Hugging Face model (default: the directory name). */
  taskName: text(z.string().min(1).optional(), {
    arg: '<name>',
    help: 'task name for a plain Hugging Face model (default: the directory name)',
  }),
  opset: number(z.number().int().min(14, 'opset must be at least 14').max(23, 'opset must be at most 23').default(17), {
    arg: '<n>',
    help: (opset) => `ONNX opset (default ${opset}; 14 to 23, 18+ with --exporter dynamo)`,
  }),
  maxLength: number(z.number().int().min(2).max(8192).default(128), {
    arg: '<n>',
    help: (length) => `tokenizer max_length recorded in configs and used for verification (default ${length})`,
  }),
  exporter: text(z.enum(EXPORTERS).default('torchscript'), { arg: '<name>', help: 'torchscript (default) or dynamo' }),
  /** FP32 gate: maximum absolute logit difference vs PyTorch. */
  fp32Tolerance: number(z.number().positive().max(1).default(defaultLimit('fp32', 'maxAbsDiff')), {
    arg: '<x>',
    help: (limit) => `FP32 gate: max abs logit diff vs PyTorch (default ${limit})`,
  }),
  /** INT8 gate: top-1 agreement with PyTorch. */
  int8Top1: number(z.number().min(0).max(1).default(defaultLimit('int8', 'top1Agreement')), {
    arg: '<x>',
    help: (limit) => `INT8 gate: top-1 agreement with PyTorch (default ${limit})`,
  }),
  quantize: text(z.enum(['int8', 'none']).default('int8'), {
    arg: '<mode>',
    help: 'int8 (default): also write <task>_int8.onnx; none: FP32 only',
  }),
  /** Also write <task>_fp16.onnx (and multihead_fp16.onnx), gated like every variant. */
  fp16: flag(z.boolean().default(false), {
    help: 'also write <task>_fp16.onnx (and multihead_fp16.onnx): float16 weights and compute,\nfloat32 inputs and outputs, for GPU/WebGPU deploys; gated at max abs diff <= 1e-2, top-1 >= 0.999',
  }),
  /** How the INT8 graphs are made: chosen per model on calibration texts (auto), or one method for every MatMul. */
  int8: text(z.enum(INT8_MODES).default('auto'), {
    arg: '<method>',
    help: "auto (default): per model, the fastest INT8 mix that keeps PyTorch's predictions on\ncalibration texts (judged on other texts); or one method for every MatMul:\ndynamic (ORT's quantize_dynamic, bit-exact), per-token, weight-only,\nweight-only-10, weight-only-12",
    section: INT8,
  }),
  /** auto: the most candidate graphs built and run on the calibration split. */
  int8Budget: number(z.number().int().min(2).max(200).default(16), {
    arg: '<n>',
    help: (budget) => `auto: most candidate graphs to try (default ${budget})`,
    section: INT8,
  }),
  /** Measure every variant's latency for the report (default: only with fp16). */
  latency: toggle(z.boolean().optional(), {
    help: 'measure every variant at batch 1 and 32 for the report (~30 s on MiniLM;\non by default with --fp16); auto reports the speed of its choice anyway',
    negatedHelp: 'no latency measurement, even with --fp16',
  }),
  /** Gate overrides: `{ task?, comparison, metric, limit }` or the CLI's text, e.g. "spam.int8.top1=0.95". */
  gates: repeated(z.array(gateInput).default([]), {
    flag: 'gate',
    arg: '<spec>',
    help: "override or add a gate, globally or per task (repeatable):\n[task.]fp32|int8|fp16.max_abs|top1|accuracy_drop=<x>, e.g. --gate spam.int8.top1=0.95;\nint8.accuracy_drop=0.01: INT8 accuracy at most 1 point below PyTorch's (needs labels)",
  }),
  /** Judge proportion gates at their value (default) or at the pessimistic end of their 95% interval. */
  gateOn: text(z.enum(GATE_ON).default('point'), {
    arg: '<point|lower-bound>',
    help: "point (default): a gate judges the measured agreement; lower-bound: the lower end\nof its 95% Wilson interval (and the upper end of an accuracy drop's)",
  }),
  /** Gates as JSON (applied before `gates`). */
  gatesFile: text(z.string().min(1).optional(), {
    arg: '<f>',
    help: 'gates as JSON: {"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}',
  }),
  /** Also write the gates as JUnit XML to this file. */
  junit: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'also write the gates as JUnit XML (one test case per task and gate)',
  }),
  /** Your validation texts (repeatable): they choose the INT8 graph and judge its gate. */
  samples: repeated(filesInput.optional(), {
    arg: '<file>',
    help: 'your validation texts (repeatable): RapidFit seed data (.json: {task: [{"text", "label"}]}),\n.jsonl ({"text", "labels": {task: label}}), .csv/.tsv (a "text" column and a column per task)\nor .txt; they alone choose the INT8 graph and judge its gate, labels add accuracy',
    section: SAMPLES,
  }),
  /** CSV/TSV: the column holding the text (default "text"). */
  textColumn: text(z.string().min(1).optional(), {
    arg: '<name>',
    help: 'CSV/TSV: the column with the text (default: text)',
    section: SAMPLES,
  }),
  /** CSV/TSV: task -> the column with its label (default: the column named like the task). */
  labelColumns: repeated(labelColumnsInput.optional(), {
    flag: 'label-column',
    arg: '<task=col>',
    help: 'CSV/TSV: the column with a task\'s label (repeatable; default: the column named\nlike the task, or "label" for a one-task model)',
    section: SAMPLES,
  }),
  sampleLimit: number(z.number().int().min(0).optional(), {
    flag: 'samples-limit',
    arg: '<n>',
    help: 'use the first n of the 213 embedded texts only; 0: none (needs --samples)',
    section: SAMPLES,
  }),
  /** The serving batch size INT8's speed-up is measured at (beside batch 1). */
  batchSize: number(z.number().int().min(1).max(1024).default(32), {
    arg: '<n>',
    help: (size) =>
      `auto: the batch size (beside 1) INT8's speed is measured at, at your texts'\nlengths (default ${size})`,
    section: INT8,
  }),
  /** Store weights in external data files (default: only past 2 GB). */
  externalData: flag(z.boolean().default(false), { help: 'store weights in <task>_weights.bin (automatic past 2 GB)' }),
  /** Replace an output directory that is not a previous bundle. */
  force: flag(z.boolean().default(false), { help: 'replace an output directory that is not a previous bundle' }),
  /** Quantizer options (weight type, per channel, op types, excluded nodes), over ORT's defaults. */
  quantization: group(QUANTIZE_WEIGHT_OPTIONS),
  ...BRIDGE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

const exportSchema = tableSchema(EXPORT_OPTIONS).superRefine((options, context) => {
  if (options.exporter === 'dynamo' && options.opset < 18) {
    context.addIssue({ code: 'custom', path: ['opset'], message: 'the dynamo exporter needs --opset 18 or newer' });
  }
  if (options.sampleLimit === 0 && (options.samples ?? []).length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['sampleLimit'],
      message: '0 switches the embedded texts off, which leaves no texts: give yours with --samples',
    });
  }
});

type ParsedExportOptions = TableOutput<typeof EXPORT_OPTIONS>;

/** What the pipeline runs with: the validated options, with what depends on other options resolved. */
export interface ExportOptions extends Omit<
  ParsedExportOptions,
  'outDir' | 'latency' | 'samples' | 'gatesFile' | 'quantization'
> {
  modelDir: string;
  outDir: string;
  latency: boolean;
  samples: string[];
  quantization: QuantizeOptions;
}

/** What `exportModel` takes: every option of the CLI's table, camel-cased, optional (same defaults). */
export type ExportModelOptions = ApiInput<typeof EXPORT_OPTIONS>;

/**
 * The export's options from the command line's values or the library's: validated against the table,
 * then the options that depend on others resolved (the output beside the model, latency on with FP16,
 * --gates-file before --gate, paths absolute).
 */
export function resolveExportOptions(modelDir: string, input: unknown, style: 'cli' | 'api'): ExportOptions {
  const parsed = parseTable(EXPORT_OPTIONS, exportSchema, input, style);
  const model = resolve(modelDir);
  const { gatesFile, ...rest } = parsed;
  return {
    ...rest,
    modelDir,
    outDir: resolve(parsed.outDir ?? join(dirname(model), `${basename(model)}-onnx`)),
    latency: parsed.latency ?? parsed.fp16,
    gates: [...(gatesFile ? readGatesFile(gatesFile) : []), ...parsed.gates],
    samples: (parsed.samples ?? []).map((file) => resolve(file)),
    junit: parsed.junit === undefined ? undefined : resolve(parsed.junit),
    quantization: {
      ...DEFAULT_QUANTIZE_OPTIONS,
      ...parsed.quantization,
      externalData: parsed.externalData ? 'always' : 'auto',
    },
    ...(style === 'api' ? { json: true, progress: false, verbose: false } : {}),
  };
}
