import { elementCount } from '../../onnx/tensor.js';
import type { GraphQuantizer } from '../quantizer.js';
import type { OperatorRewriter } from './rewriter.js';

/** A table small enough to stay float under `gatherFloatShare` (0, the default, keeps none). */
function keptFloat(table: string, quantizer: GraphQuantizer): boolean {
  const share = quantizer.options.gatherFloatShare;
  return share > 0 && elementCount(quantizer.initializers.get(table)!) <= share * quantizer.floatElements;
}

/** Gather over a constant float table (embeddings): reads a uint8 table (per tensor or per column), dequantized for its consumers. */
export const gatherRewriter: OperatorRewriter = {
  async rewrite(node, quantizer: GraphQuantizer) {
    const [table = ''] = node.input ?? [];
    if (!quantizer.isFloatInitializer(table) || keptFloat(table, quantizer)) return undefined;
    const perColumn = quantizer.options.gather === 'per-column';
    const quantized = await quantizer.quantizeInitializer(table, 'uint8', false, perColumn ? -1 : undefined, false);
    const output = node.output?.[0] ?? '';
    // gathered rows keep the table's last axis: per column, they dequantize along their own last axis
    quantizer.valueMap.set(output, {
      q: `${output}_quantized`,
      scale: quantized.scale,
      zeroPoint: quantized.zeroPoint,
      ...(perColumn ? { axis: -1 } : {}),
    });
    quantizer.count(node);
    return [
      {
        ...node,
        input: [quantized.q, ...(node.input ?? []).slice(1)],
        output: [`${output}_quantized`, ...(node.output ?? []).slice(1)],
      },
    ];
  },
};
