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
export type MatMulMethod = 'dynamic' | 'per-token' | 'weight-only' | 'weight-only-10' | 'weight-only-12' | 'float';

/** The quantizer's options (the command's and the library's option tables validate them). */
export interface QuantizeOptions {
  weightType: 'int8' | 'uint8';
  perChannel: boolean;
  reduceRange: boolean;
  opTypes: string[];
  excludeNodes: string[];
  externalData: 'auto' | 'always' | 'never';
  /** The rewrite of every quantized MatMul, unless `nodeMethods` names the node. */
  matmul: MatMulMethod;
  /** Per MatMul node name: a method other than `matmul` (mixed precision). */
  nodeMethods: Record<string, MatMulMethod>;
  /**
   * Gather over a float table (embeddings): ORT's one uint8 scale for the whole table, or one uint8
   * scale and zero point per column (per hidden unit), which keeps outlier dimensions from costing the
   * other dimensions their resolution.
   */
  gather: 'per-tensor' | 'per-column';
  /**
   * Gather tables holding at most this share of the graph's float32 weights stay float (0: none).
   * Position and token-type tables are small (0.9% of MiniLM) yet feed every token: 8-bit rows there
   * flip near-tie predictions.
   */
  gatherFloatShare: number;
  /** Weights per scale along K for the weight-only method (a power of two >= 16). */
  blockSize: number;
}

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
