import { z } from 'zod';

/** The op types ONNX Runtime's quantize_dynamic quantizes by default (its IntegerOps registry). */
export const ORT_DYNAMIC_OP_TYPES = [
  'Conv',
  'MatMul',
  'Attention',
  'LSTM',
  'Gather',
  'Transpose',
  'EmbedLayerNormalization',
] as const;

/**
 * How one MatMul with a constant weight is rewritten:
 * - dynamic: ORT's quantize_dynamic (per-tensor uint8 activations at run time, MatMulInteger);
 * - per-token: one int8 scale per activation row (token), shifted to uint8, MatMulInteger with
 *   per-channel int8 weights;
 * - weight-only: 8-bit block-wise weights, rebuilt in float when the session loads (float compute);
 * - weight-only-10 / weight-only-12: int8 per column plus a 2-bit / 4-bit residual (about 10 / 12 bits
 *   in 1.25 / 1.5 bytes per weight), rebuilt in float when the session loads;
 * - float: left as it is.
 */
export const MATMUL_METHODS = [
  'dynamic',
  'per-token',
  'weight-only',
  'weight-only-10',
  'weight-only-12',
  'float',
] as const;
export type MatMulMethod = (typeof MATMUL_METHODS)[number];

export const quantizeOptionsSchema = z.object({
  weightType: z.enum(['int8', 'uint8']),
  perChannel: z.boolean(),
  reduceRange: z.boolean(),
  opTypes: z.array(z.string().min(1)).min(1),
  excludeNodes: z.array(z.string()),
  externalData: z.enum(['auto', 'always', 'never']),
  /** The rewrite of every quantized MatMul, unless `nodeMethods` names the node. */
  matmul: z.enum(MATMUL_METHODS).default('dynamic'),
  /** Per MatMul node name: a method other than `matmul` (mixed precision). */
  nodeMethods: z.record(z.string(), z.enum(MATMUL_METHODS)).default({}),
  /**
   * Gather over a float table (embeddings): ORT's one uint8 scale for the whole table, or one uint8
   * scale and zero point per column (per hidden unit), which keeps outlier dimensions from costing the
   * other dimensions their resolution.
   */
  gather: z.enum(['per-tensor', 'per-column']).default('per-tensor'),
  /**
   * Gather tables holding at most this share of the graph's float32 weights stay float (0: none).
   * Position and token-type tables are small (0.9% of MiniLM) yet feed every token: 8-bit rows there
   * flip near-tie predictions.
   */
  gatherFloatShare: z.number().min(0).max(1).default(0),
  /** Weights per scale along K for the weight-only method (a power of two >= 16). */
  blockSize: z
    .number()
    .int()
    .refine((n) => n >= 16 && (n & (n - 1)) === 0, 'the block size must be a power of two, at least 16')
    .default(16),
});
export type QuantizeOptions = z.infer<typeof quantizeOptionsSchema>;

export const DEFAULT_QUANTIZE_OPTIONS: QuantizeOptions = {
  weightType: 'int8',
  perChannel: false,
  reduceRange: false,
  opTypes: [...ORT_DYNAMIC_OP_TYPES],
  excludeNodes: [],
  externalData: 'auto',
  matmul: 'dynamic',
  nodeMethods: {},
  gather: 'per-tensor',
  gatherFloatShare: 0,
  blockSize: 16,
};
