import { z } from 'zod';

/** The op types ONNX Runtime's quantize_dynamic quantizes by default (its IntegerOps registry). */
export const ORT_DYNAMIC_OP_TYPES = ['Conv', 'MatMul', 'Attention', 'LSTM', 'Gather', 'Transpose', 'EmbedLayerNormalization'] as const;
/** What this quantizer implements; Gemm is rewritten to MatMul (+ Add) first, as ORT does. */
export const IMPLEMENTED_OP_TYPES = ['MatMul', 'Gather'] as const;

export const quantizeOptionsSchema = z.object({
  weightType: z.enum(['int8', 'uint8']),
  perChannel: z.boolean(),
  reduceRange: z.boolean(),
  opTypes: z.array(z.string().min(1)).min(1),
  excludeNodes: z.array(z.string()),
  externalData: z.enum(['auto', 'always', 'never']),
});
export type QuantizeOptions = z.infer<typeof quantizeOptionsSchema>;

export const DEFAULT_QUANTIZE_OPTIONS: QuantizeOptions = {
  weightType: 'int8',
  perChannel: false,
  reduceRange: false,
  opTypes: [...ORT_DYNAMIC_OP_TYPES],
  excludeNodes: [],
  externalData: 'auto',
};
