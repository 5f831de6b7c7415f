import { parseQuantizeOptions, type QuantizeCommandOptions, type QuantizeModelOptions } from '../options/quantize.js';
import { INT8_SPEED_GOAL } from '../quantize/policy.js';
import type { QuantizeFileResult } from '../quantize/quantize-file.js';
import { int8Note } from '../report/int8-note.js';

export type { QuantizeModelOptions } from '../options/quantize.js';
export type { QuantizeFileResult as QuantizeModelResult } from '../quantize/quantize-file.js';

/** The quantize command's validated options, run: texts read, the quantizer's options filled. */
export async function quantizeOnnxFile(
  input: string,
  options: QuantizeCommandOptions,
  onProgress: (message: string) => void,
): Promise<QuantizeFileResult & { note?: string }> {
  const [{ quantizeFile }, { readSampleTexts }, { DEFAULT_QUANTIZE_OPTIONS }] = await Promise.all([
    import('../quantize/quantize-file.js'),
    import('../samples/user-samples.js'),
    import('../quantize/options.js'),
  ]);
  const texts = options.samples ? await readSampleTexts(options.samples) : undefined;
  const result = await quantizeFile({
    input,
    ...(options.out !== undefined ? { out: options.out } : {}),
    ...(options.int8 !== undefined ? { int8: options.int8 } : {}),
    options: {
      ...DEFAULT_QUANTIZE_OPTIONS,
      ...options.quantization,
      externalData: options.externalData ? 'always' : 'auto',
    },
    ...(texts ? { texts } : {}),
    ...(options.tokenizer !== undefined ? { tokenizer: options.tokenizer } : {}),
    maxLength: options.maxLength,
    budget: options.int8Budget,
    batchSize: options.batchSize,
    int8Top1: options.int8Top1,
    onProgress,
  });
  const note = result.choice ? int8Note(result.choice, INT8_SPEED_GOAL) : undefined;
  return { ...result, ...(note ? { note } : {}) };
}

/**
 * Quantizes any ONNX file to INT8 in TypeScript (no Python), as `rapidfit-export quantize` does.
 * Throws InputError (unreadable model, bad options) or, for auto, GateError when the judged half of
 * the texts falls below `int8Top1` (the graph is written; `error.payload` holds the result).
 */
export async function quantizeModel(
  input: string,
  options: QuantizeModelOptions = {},
): Promise<QuantizeFileResult & { note?: string }> {
  const { onProgress, ...rest } = options;
  return quantizeOnnxFile(input, parseQuantizeOptions(rest, 'api'), onProgress ?? (() => {}));
}
