import { z } from 'zod';
import { INT8_MODES } from '../quantize/policy.js';
import { OUTPUT_OPTIONS } from './common.js';
import { EXPORT_OPTIONS } from './export.js';
import { QUANTIZE_WEIGHT_OPTIONS } from './quantize-weights.js';
import {
  flag,
  group,
  number,
  parseTable,
  repeated,
  tableSchema,
  text,
  type ApiInput,
  type TableOutput,
} from './table.js';

/** `rapidfit-export quantize <in.onnx>`: the option table. */
export const QUANTIZE_OPTIONS = {
  /** The INT8 graph (default `<input>_int8.onnx` beside the input). */
  out: text(z.string().min(1).optional(), {
    short: 'o',
    arg: '<file>',
    help: 'the INT8 graph (default: <in>_int8.onnx beside the input)',
  }),
  /** dynamic (default without texts: ORT's quantize_dynamic, bit for bit), per-token, weight-only, weight-only-10, weight-only-12, or auto (default with `samples`). */
  int8: text(z.enum(INT8_MODES).optional(), {
    arg: '<method>',
    help: "dynamic (default without texts; ORT's, bit-exact), per-token, weight-only,\nweight-only-10, weight-only-12, or auto (default with --samples): needs --samples <f> and --tokenizer <dir>;\nhalf the texts choose, the other half judge against --int8-top1",
  }),
  /** auto: calibration texts; half choose, the other half judge against the FP32 graph. */
  samples: repeated(EXPORT_OPTIONS.samples.schema, {
    arg: '<file>',
    help: 'auto: calibration texts (repeatable): .txt (one per line), .jsonl (a "text" per line),\n.json seed data or .csv/.tsv with a "text" column',
  }),
  /** auto: the directory with the model's tokenizer.json. */
  tokenizer: text(z.string().min(1).optional(), {
    arg: '<dir>',
    help: "auto: the directory with the model's tokenizer.json",
  }),
  maxLength: number(EXPORT_OPTIONS.maxLength.schema, {
    arg: '<n>',
    help: (length) => `auto: tokenizer max_length for the texts (default ${length})`,
  }),
  /** auto: the top-1 agreement with FP32 the judged half must reach. */
  int8Top1: number(EXPORT_OPTIONS.int8Top1.schema, {
    arg: '<x>',
    help: (limit) => `auto: top-1 agreement with the FP32 graph the judged half must reach (default ${limit})`,
  }),
  int8Budget: number(EXPORT_OPTIONS.int8Budget.schema, {
    arg: '<n>',
    help: (budget) => `auto: most candidate graphs to try (default ${budget})`,
  }),
  batchSize: number(EXPORT_OPTIONS.batchSize.schema, {
    arg: '<n>',
    help: (size) => `auto: the batch size (beside 1) the choice's speed is measured at (default ${size})`,
  }),
  externalData: flag(z.boolean().default(false), {
    help: 'store the weights in <out>_weights.bin (automatic past 2 GB)',
  }),
  /** Quantizer options (weight type, per channel, op types, excluded nodes), over ORT's defaults. */
  quantization: group(QUANTIZE_WEIGHT_OPTIONS),
  ...OUTPUT_OPTIONS,
};

const quantizeSchema = tableSchema(QUANTIZE_OPTIONS);
export type QuantizeCommandOptions = TableOutput<typeof QUANTIZE_OPTIONS>;
/** What the library's `quantizeModel` takes (every option optional, the command's defaults). */
export type QuantizeModelOptions = ApiInput<typeof QUANTIZE_OPTIONS> & { onProgress?: (message: string) => void };

export function parseQuantizeOptions(input: unknown, style: 'cli' | 'api'): QuantizeCommandOptions {
  return parseTable(QUANTIZE_OPTIONS, quantizeSchema, input, style);
}
