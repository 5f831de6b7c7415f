import type { NodeProto } from '../../onnx/proto.js';
import type { MatMulMethod } from '../options.js';
import type { GraphQuantizer } from '../quantizer.js';
import { rewriteMatMulDynamic } from './matmul-dynamic.js';
import { rewriteMatMulPerToken } from './matmul-per-token.js';
import { rewriteMatMulWeightOnly } from './matmul-weight-only.js';
import { rewriteMatMulWeightResidual } from './matmul-weight-residual.js';
import type { OperatorRewriter } from './rewriter.js';

type MatMulRewrite = (node: NodeProto, quantizer: GraphQuantizer) => Promise<NodeProto[] | undefined>;

/** One entry per MatMul method; "float" leaves the node as it is. */
const MATMUL_REWRITES: Record<MatMulMethod, MatMulRewrite> = {
  dynamic: rewriteMatMulDynamic,
  'per-token': rewriteMatMulPerToken,
  'weight-only': rewriteMatMulWeightOnly,
  'weight-only-10': rewriteMatMulWeightResidual(2),
  'weight-only-12': rewriteMatMulWeightResidual(4),
  float: () => Promise.resolve(undefined),
};

/** MatMul with a constant float32 weight, rewritten by the node's method (options.nodeMethods, else options.matmul). */
export const matmulRewriter: OperatorRewriter = {
  async rewrite(node, quantizer) {
    const [, weight = ''] = node.input ?? [];
    if (!quantizer.isFloatInitializer(weight)) return undefined;
    const method = quantizer.options.nodeMethods[node.name ?? ''] ?? quantizer.options.matmul;
    const nodes = await MATMUL_REWRITES[method](node, quantizer);
    if (nodes) quantizer.count(node, method);
    return nodes;
  },
};
