import { InputError } from '../errors.js';
import type { NodeProto, TensorProto } from '../onnx/proto.js';
import { DataType } from '../onnx/tensor.js';
import { readAllFloats } from './float-source.js';
import { attributeValue, makeNode, type GraphQuantizer } from './quantizer.js';

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r += 1) for (let c = 0; c < cols; c += 1) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * Gemm (alpha = beta = 1, transA = 0) -> MatMul (+ Add), like ONNXModel.replace_gemm_with_matmul; a
 * transposed constant weight becomes a new initializer `<w>_Transposed`. Returns the new node list.
 */
export async function replaceGemmWithMatMul(
  nodes: NodeProto[],
  quantizer: GraphQuantizer,
): Promise<{ nodes: NodeProto[]; rewritten: number }> {
  const out: NodeProto[] = [];
  const transposed = new Map<string, string>();
  let rewritten = 0;
  for (const node of nodes) {
    if (node.op_type !== 'Gemm') {
      out.push(node);
      continue;
    }
    const alpha = attributeValue(node, 'alpha', 1);
    const beta = attributeValue(node, 'beta', 1);
    const transA = attributeValue(node, 'transA', 0);
    const transB = attributeValue(node, 'transB', 0);
    if (!(alpha === 1 && beta === 1 && transA === 0)) {
      out.push(node);
      continue;
    }
    const [a = '', b = '', c] = node.input ?? [];
    let inputB = b;
    if (transB === 1) {
      if (quantizer.initializers.has(b)) {
        if (!transposed.has(b)) {
          const candidate = quantizer.uniqueName(`${b}_Transposed`, ['', '_quantized', '_scale', '_zero_point']);
          const source = quantizer.source(b);
          if (source.dims.length !== 2)
            throw new InputError(`tensor "${b}": a Gemm weight must be 2-D`, { file: quantizer.file });
          const values = transpose2d(await readAllFloats(source), source.dims[0]!, source.dims[1]!);
          const tensor: TensorProto = {
            name: candidate,
            dims: [source.dims[1]!, source.dims[0]!],
            data_type: DataType.FLOAT,
            raw_data: new Uint8Array(values.buffer),
          };
          quantizer.initializers.set(candidate, tensor);
          transposed.set(b, candidate);
        }
        inputB = transposed.get(b)!;
      } else {
        inputB = `${b}_Transposed`;
        out.push(makeNode('Transpose', [b], [inputB], node.name ? `${node.name}_Transpose` : ''));
      }
    }
    const output = node.output?.[0] ?? '';
    const matmul = makeNode(
      'MatMul',
      [a, inputB],
      [output + (c ? '_MatMul' : '')],
      node.name ? `${node.name}_MatMul` : '',
    );
    quantizer.originalOp.set(matmul, 'Gemm');
    out.push(matmul);
    if (c)
      out.push(makeNode('Add', [`${output}_MatMul`, c], [...(node.output ?? [])], node.name ? `${node.name}_Add` : ''));
    rewritten += 1;
  }
  return { nodes: out, rewritten };
}
