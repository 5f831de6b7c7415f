import type { NodeProto } from '../../onnx/proto.js';
import type { GraphQuantizer } from '../quantizer.js';

/** Rewrites one node into quantized nodes, or returns undefined when it does not apply (the node stays float). */
export interface OperatorRewriter {
  rewrite(node: NodeProto, quantizer: GraphQuantizer): Promise<NodeProto[] | undefined>;
}
