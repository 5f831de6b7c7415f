import { parseQuantizeOptions, type QuantizeCommandOptions, type QuantizeModelOptions } from '../options/quantize.js';
import type { QuantizeFileResult } from '../quantize/quantize-file.js';

export type { QuantizeModelOptions } from '../options/quantize.js';
export type { QuantizeFileResult as QuantizeModelResult } from '../quantize/quantize-file.js';

/** The quantize command's validated options, run: texts read, the quantizer's options filled. */
export async function quantizeOnnxFile(
  input: string,
  options: QuantizeCommandOptions,
  onProgress: (message: string) => void,
): Promise<QuantizeFileResult> {
  const [{ quantizeFile }, { readSampleTexts }, { DEFAULT_QUANTIZE_OPTIONS }] = await Promise.all([
    import('../quantize/quantize-file.js'),
    import('../samples/texts.js'),
    import('../quantize/options.js'),
  ]);
  const texts = options.samples ? await readSampleTexts(options.samples) : undefined;
  return quantizeFile({
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
    int8Top1: options.int8Top1,
    onProgress,
  });
}

/**
 * Quantizes any ONNX file to INT8 in TypeScript (no Python), as `rapidfit-export quantize` does.
 * Throws InputError (unreadable model, bad options) or, for auto, GateError when the judged half of
 * the texts falls below `int8Top1` (the graph is written; `error.payload` holds the result).
 */
export async function quantizeModel(input: string, options: QuantizeModelOptions = {}): Promise<QuantizeFileResult> {
  const { onProgress, ...rest } = options;
  return quantizeOnnxFile(input, parseQuantizeOptions(rest, 'api'), onProgress ?? (() => {}));
}
