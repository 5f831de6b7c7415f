import type { AttributeProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/proto.js';
import { DataType } from '../onnx/tensor.js';
import { toHalf } from './half.js';

/**
 * Op types left in float32 in an FP16 graph, with Casts around them. The numerically sensitive ones
 * (normalisations, softmax, reductions, powers and roots, exp/log), which onnxconverter-common's
 * auto-mixed-precision and ORT's transformers optimizer keep in float32 too, plus the ops
 * onnxconverter-common's DEFAULT_OP_BLOCK_LIST names that our encoders can contain (no float16 kernels).
 */
export const FLOAT32_OPS: ReadonlySet<string> = new Set([
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'Softmax',
  'LogSoftmax',
  'ReduceMean',
  'ReduceSum',
  'ReduceSumSquare',
  'ReduceL2',
  'Pow',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'TopK',
]);

const ATTRIBUTE_INT = 2;
export const ATTRIBUTE_TENSOR = 4;

interface TypeView {
  tensor_type?: { elem_type?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export function elemType(value: ValueInfoProto): number | undefined {
  return (value.type as TypeView | undefined)?.tensor_type?.elem_type;
}

export function withElemType(value: ValueInfoProto, type: number, name = value.name): ValueInfoProto {
  const view = value.type as TypeView;
  return { ...value, name, type: { ...view, tensor_type: { ...view.tensor_type, elem_type: type } } };
}

export function cast(input: string, output: string, to: number): NodeProto {
  return {
    input: [input],
    output: [output],
    name: `${output}_Cast`,
    op_type: 'Cast',
    attribute: [{ name: 'to', type: ATTRIBUTE_INT, i: to }],
  };
}

/** A float32 tensor held in the graph itself (a Constant's value) as float16: small, converted in memory. */
export function halfTensorInline(tensor: TensorProto): TensorProto {
  const floats =
    tensor.float_data && tensor.float_data.length > 0
      ? Float32Array.from(tensor.float_data)
      : new Float32Array(Uint8Array.from(tensor.raw_data ?? new Uint8Array()).buffer);
  const half = new Uint16Array(floats.length);
  toHalf(floats, half);
  const { float_data: _floats, raw_data: _raw, ...rest } = tensor;
  return { ...rest, data_type: DataType.FLOAT16, raw_data: new Uint8Array(half.buffer) };
}

export function floatTensorAttribute(node: NodeProto): AttributeProto | undefined {
  return (node.attribute ?? []).find(
    (a) =>
      a.name === 'value' &&
      a.type === ATTRIBUTE_TENSOR &&
      (a.t as TensorProto | undefined)?.data_type === DataType.FLOAT,
  );
}

/** A Constant that yields a float32 value from a scalar/list attribute (value_float, value_floats): kept as is. */
export function isFloatListConstant(node: NodeProto): boolean {
  return (
    node.op_type === 'Constant' &&
    (node.attribute ?? []).some((a) => a.name === 'value_float' || a.name === 'value_floats')
  );
}
