import { QUANTIZE_OPTIONS, parseQuantizeOptions, type QuantizeCommandOptions } from '../options/quantize.js';
import type { QuantizeFileResult } from '../quantize/quantize-file.js';
import { defineCommand, print } from './command.js';

function summaryOf(result: QuantizeFileResult & { note?: string }): string {
  const count = (counts: Record<string, number | undefined>) =>
    Object.entries(counts)
      .map(([name, n]) => `${n} ${name}`)
      .join(', ');
  const unsupported =
    Object.keys(result.unsupported).length > 0 ? `; left in float (not implemented): ${count(result.unsupported)}` : '';
  const judged = result.judged
    ? `\n  judged half of the texts, top-1 agreement with FP32: ${Object.entries(result.judged)
        .map(([name, v]) => `${name} ${(v * 100).toFixed(2)}%`)
        .join(', ')}`
    : '';
  const speed = result.speedupBatch1 ? `; ${result.speedupBatch1.toFixed(2)}x FP32 speed at batch 1` : '';
  return `${result.file}: ${count(result.quantizedNodes)} quantized (${result.quantizedWeights} weights; MatMuls: ${count(result.methods)}) in ${result.seconds.toFixed(1)} s; ${(result.bytes / 1e6).toFixed(1)} MB${unsupported}${judged}${speed}${result.note ? `\n  ${result.note}` : ''}`;
}

/** `rapidfit-export quantize <in.onnx>`: any ONNX file, no Python. */
export const quantizeCommand = defineCommand<typeof QUANTIZE_OPTIONS, QuantizeCommandOptions>({
  name: 'quantize',
  usage: '<in.onnx>',
  summary: 'INT8 quantization of any ONNX file (no Python)',
  description: `Quantize the weights of an ONNX file to INT8 (MatMul, Gemm as MatMul, Gather), with ONNX Runtime's
quantize_dynamic semantics by default, in TypeScript: no Python.`,
  options: QUANTIZE_OPTIONS,
  maxPositionals: 1,
  required: { missing: 'quantize needs an ONNX file', hint: 'rapidfit-export quantize model.onnx -o model_int8.onnx' },
  parse: (input) => parseQuantizeOptions(input, 'cli'),
  async run({ positionals: [input = ''], options }) {
    const { quantizeOnnxFile } = await import('../api/quantize-model.js');
    const result = await quantizeOnnxFile(input, options, (message) => {
      if (!options.json) process.stderr.write(`  ${message}\n`);
    });
    print(options.json, { ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }, summaryOf(result));
  },
});
