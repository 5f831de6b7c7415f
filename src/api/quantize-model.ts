import { DEFAULTS, type Int8Mode } from '../config/options.js';
import type { QuantizeCommandResult } from '../commands/quantize.js';
import type { QuantizeOptions } from '../quantize/options.js';
import { resolveQuantizeOptions } from './options.js';

export type { QuantizeCommandResult as QuantizeModelResult } from '../commands/quantize.js';
export type { QuantizeOptions } from '../quantize/options.js';

/** What `quantizeModel` takes; defaults as the `quantize` command's flags. */
export interface QuantizeModelOptions {
  /** The INT8 graph (default `<input>_int8.onnx` beside the input). */
  out?: string;
  /** dynamic (default without texts: ORT's quantize_dynamic, bit for bit), per-token, weight-only, weight-only-10, weight-only-12, or auto (default with `samples`). */
  int8?: Int8Mode;
  /** auto: calibration texts, .txt or .jsonl; half choose, the other half judge against the FP32 graph. */
  samples?: string;
  /** auto: the directory with the model's tokenizer.json. */
  tokenizer?: string;
  maxLength?: number;
  /** auto: the most candidate graphs built and run (default 16). */
  budget?: number;
  /** auto: the top-1 agreement with FP32 the judged half must reach (default 0.99). */
  int8Top1?: number;
  /** Quantizer options over ORT's defaults: weight type, per channel, reduce range, op types, excluded nodes, external data. */
  quantization?: Partial<QuantizeOptions>;
  onProgress?: (message: string) => void;
}

/**
 * Quantizes any ONNX file to INT8 in TypeScript (no Python), as `rapidfit-export quantize` does.
 * Throws InputError (unreadable model, bad options) or, for auto, GateError when the judged half of
 * the texts falls below `int8Top1` (the graph is written; `error.payload` holds the result).
 */
export async function quantizeModel(input: string, options: QuantizeModelOptions = {}): Promise<QuantizeCommandResult> {
  const quantization = resolveQuantizeOptions(options.quantization);
  const { runQuantizeCommand } = await import('../commands/quantize.js');
  return runQuantizeCommand({
    input,
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.int8 !== undefined ? { int8: options.int8 } : {}),
    ...(options.samples !== undefined ? { samples: options.samples } : {}),
    ...(options.tokenizer !== undefined ? { tokenizer: options.tokenizer } : {}),
    options: quantization,
    maxLength: options.maxLength ?? DEFAULTS.maxLength,
    budget: options.budget ?? DEFAULTS.int8Budget,
    int8Top1: options.int8Top1 ?? DEFAULTS.int8Top1,
    onProgress: options.onProgress ?? (() => {}),
  });
}
