import { z } from 'zod';
import { ORT_DYNAMIC_OP_TYPES } from '../quantize/options.js';
import { flag, list, text } from './table.js';

const QUANTIZE = 'Quantize options (how INT8 weights are made)';

/** How weights are quantized: `quantize`, and the <task>_int8.onnx graphs of an export (the API's `quantization`). */
export const QUANTIZE_WEIGHT_OPTIONS = {
  weightType: text(z.enum(['int8', 'uint8']).default('int8'), {
    arg: '<t>',
    help: 'int8 (symmetric, default) or uint8 (asymmetric)',
    section: QUANTIZE,
  }),
  perChannel: flag(z.boolean().default(false), {
    help: 'one scale per output channel of each weight',
    section: QUANTIZE,
  }),
  reduceRange: flag(z.boolean().default(false), { help: '7-bit weights (for CPUs without VNNI)', section: QUANTIZE }),
  opTypes: list(
    z
      .array(z.string().min(1))
      .min(1)
      .default([...ORT_DYNAMIC_OP_TYPES]),
    {
      arg: '<a,b>',
      help: (types) => `op types to quantize (default: ONNX Runtime's: ${types.join(',')})`,
      section: QUANTIZE,
    },
  ),
  excludeNodes: list(z.array(z.string()).default([]), {
    arg: '<a,b>',
    help: 'node names to leave in float',
    section: QUANTIZE,
  }),
};
