import type { ModelProto, NodeProto } from '../../onnx/proto.js';
import { DataType } from '../../onnx/tensor.js';
import { attributeValue } from '../quantizer.js';

/** A MatMul the quantizer rewrites, by the name it has after the Gemm -> MatMul rewrite (the key of nodeMethods). */
export interface MatMulCandidate {
  name: string;
  node: NodeProto;
}

/** The MatMul and Gemm nodes with a constant float32 weight and a run-time input: what a MatMul method applies to. */
export function quantizableMatMuls(model: ModelProto): MatMulCandidate[] {
  const graph = model.graph!;
  const floats = new Set(
    (graph.initializer ?? []).filter((t) => t.data_type === DataType.FLOAT).map((t) => t.name ?? ''),
  );
  const constants = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const candidates: MatMulCandidate[] = [];
  for (const node of graph.node ?? []) {
    const [a = '', b = ''] = node.input ?? [];
    if (!node.name || constants.has(a) || !floats.has(b)) continue;
    if (node.op_type === 'MatMul') candidates.push({ name: node.name, node });
    const plainGemm =
      node.op_type === 'Gemm' &&
      attributeValue(node, 'alpha', 1) === 1 &&
      attributeValue(node, 'beta', 1) === 1 &&
      attributeValue(node, 'transA', 0) === 0;
    if (plainGemm) candidates.push({ name: `${node.name}_MatMul`, node });
  }
  return candidates;
}
